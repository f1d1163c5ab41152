"""The built-in simulator: stands in for the main (7B) and embedder (1B) models without a server.

Deterministic for a seed. It writes real answer text built from the question's own terms. For the
demo questions (engine/providers/sim_world.py) it knows the right answer and a hidden difficulty:
each model answers correctly with a probability that falls with difficulty, faster for the embedder,
and a wrong answer states a wrong final answer in fluent text (often with the hedges, second
thoughts or missing conclusion that wrong real answers show). `ChatResult.sim_correct` records the
simulator's ground truth for benches and the dashboard's "accuracy (simulated)"; the engine's scorer
never sees it. Other questions are answered as before: the embedder's answers degrade (missing terms,
truncation, repetition, refusals) as the question gets harder, by the simulator's own difficulty.
Latencies are modelled in milliseconds (main about 9-16 s, embedder about 1.5-4 s, like runbook
004's healthy system) and really slept for `modelled * latency_scale`, so a demo takes seconds;
`chat_stream` spreads the same latency over word deltas after a modelled time to first token.
It never returns a quality number: the engine's scorer judges the text.
"""

from __future__ import annotations

import hashlib
import random
import re
import time
from collections.abc import Generator, Mapping
from typing import Any

from engine.providers.base import ChatResult, ChatStream
from engine.providers.sim_world import Truth, p_correct, truth_of

STOPWORDS = frozenset(
    "a an the and or but if then else of to in on at by for with about as is are was were be been "
    "being do does did doing have has had what which who whom whose when where why how this that "
    "these those it its i you he she we they me my your our their can could should would will "
    "shall may might must not no yes so than too very just from into over under between please "
    "tell give explain describe".split()
)
HARD_MARKERS = re.compile(
    r"\b(prove|derive|implement|optimi[sz]e|compare|trade-?offs?|analy[sz]e|design|algorithm|"
    r"complexity|integral|derivative|theorem|concurren\w*|distributed|architecture|why|probability|"
    r"compounded|interest|catch up|without replacement|deadlock|race condition)\b", re.I)
NUMBER = re.compile(r"\d+")
MATH_CODE = re.compile(r"[=+\-*/^<>{}()\[\]]|\d|```|def |class |SELECT ", re.I)

OPENERS = [
    "Here is a clear answer about {t}.",
    "Good question: it comes down to {t}.",
    "The short version: {t} is what matters here.",
    "Let's go through {t} step by step.",
]
CONNECTORS = [
    "First, look at {a}: it sets the constraints for everything else.",
    "{A} and {b} are linked, so changing one usually means revisiting the other.",
    "A common mistake is to treat {a} in isolation; check how it interacts with {b}.",
    "For example, if {a} doubles, {b} typically has to be re-checked as well.",
    "In practice, start with {a}, then confirm {b} with a small test or a quick calculation.",
    "It helps to write down what you know about {a} before deciding on {b}.",
    "One caveat: the right choice for {a} depends on the context in which {b} is used.",
    "To summarise, {a} drives the result, and {b} decides how far you can push it.",
    "Many people underestimate {a}; spending ten minutes on it saves hours later.",
    "If you are unsure about {a}, compare two concrete cases side by side with {b}.",
    "Experts usually check {a} against a known reference before trusting {b}.",
    "The numbers for {a} matter less than the trend you see in {b}.",
    "When {a} goes wrong, the symptom often shows up first in {b}.",
    "Keep {a} simple at first; refine {b} once the basic version works.",
    "Think of {a} as the input and {b} as the outcome you are trying to control.",
    "A useful rule of thumb: fix {a} before you tune {b}.",
    "Document your assumptions about {a}, because {b} will depend on them.",
    "There is a trade-off: more attention to {a} means less flexibility in {b}.",
]
HEDGES = [
    "I'm not completely sure about this, but here is my best attempt.",
    "I might be wrong here, so please double-check.",
    "This is a bit tricky and I may have missed something.",
]
REFUSALS = [
    "I'm sorry, but I can't help with that.",
    "I am not able to answer this question.",
    "As an AI language model, I cannot provide that information.",
]


def word_pieces(text: str) -> list[str]:
    """`text` cut into words with their leading whitespace; joined they give `text` back exactly."""
    pieces = re.findall(r"\s*\S+", text)
    tail = text[sum(map(len, pieces)):]
    if tail and pieces:
        pieces[-1] += tail
    elif tail:
        pieces = [tail]
    return pieces


def key_terms(text: str) -> list[str]:
    """Content words of a question, in order, without duplicates or stopwords."""
    seen: dict[str, None] = {}
    for word in re.findall(r"[A-Za-z][A-Za-z0-9_'-]{2,}", text.lower()):
        if word not in STOPWORDS:
            seen.setdefault(word, None)
    return list(seen)


def hidden_difficulty(question: str) -> float:
    """The simulator's own notion of how hard a question is, in [0, 1]."""
    words = len(question.split())
    score = min(words / 60.0, 1.0) * 0.35
    score += min(len(HARD_MARKERS.findall(question)), 3) * 0.13
    score += 0.15 if MATH_CODE.search(question) else 0.0
    # Word problems: every quantity is one more thing a small model can get wrong.
    score += min(len(NUMBER.findall(question)), 4) * 0.05
    score += min(question.count("?") - 1, 2) * 0.07 if question.count("?") > 1 else 0.0
    score += 0.08 if re.search(r"\b(and|also|then)\b", question, re.I) and words > 15 else 0.0
    return max(0.0, min(score, 1.0))


# Hidden difficulty below which the simulated embedder answers about as well as the main model.
EMBEDDER_KNEE = 0.5


class SimProvider:
    """One simulated model: role "main" (strong, slow) or "embedder" (weak, fast)."""

    name = "sim"
    simulated = True

    def __init__(self, role: str, model: str, *, seed: int = 0, latency_scale: float = 0.0002) -> None:
        if role not in ("main", "embedder"):
            raise ValueError(f"unknown simulated role {role!r}")
        self.role = role
        self.model = model
        self.seed = seed
        self.latency_scale = latency_scale

    def _rng(self, question: str) -> random.Random:
        digest = hashlib.sha256(f"{self.seed}|{self.role}|{question}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def _compose(self, messages: list[dict[str, str]], max_tokens: int | None) -> ChatResult:
        """The answer and its modelled latency (ms), without sleeping."""
        question = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
        rng = self._rng(question)
        truth = truth_of(question)
        correct: bool | None = None
        if truth is not None:
            difficulty = truth.difficulty
            text, correct = self._answer_with_truth(question, truth, rng)
        else:
            difficulty = hidden_difficulty(question)
            text = self._answer(question, difficulty, rng)
        if max_tokens:
            text = " ".join(text.split()[: max(1, int(max_tokens / 1.3))])
        completion_tokens = int(len(text.split()) * 1.3) + 1
        prompt_tokens = int(sum(len(m.get("content", "").split()) for m in messages) * 1.3) + 1
        if self.role == "main":
            modelled = 5200 + 40 * completion_tokens + rng.gauss(0, 900) + 2500 * difficulty
        else:
            modelled = 700 + 11 * completion_tokens + rng.gauss(0, 250) + 600 * difficulty
        modelled = max(150.0, modelled)
        return ChatResult(text=text, source=self.model, provider=self.name, latency_ms=round(modelled, 1),
                          prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, simulated=True,
                          sim_correct=correct)

    def chat(self, messages: list[dict[str, str]], *, max_tokens: int | None = None,
             temperature: float = 0.2, params: Mapping[str, Any] | None = None) -> ChatResult:
        # Deterministic per seed already: extra sampling params (seed, temperature) change nothing.
        started = time.perf_counter()
        result = self._compose(messages, max_tokens)
        remaining = result.latency_ms * self.latency_scale / 1000 - (time.perf_counter() - started)
        if remaining > 0:
            time.sleep(remaining)
        return result

    def chat_stream(self, messages: list[dict[str, str]], *, max_tokens: int | None = None,
                    temperature: float = 0.2, params: Mapping[str, Any] | None = None) -> ChatStream:
        """The text `chat` would give, a word per delta: the first after the modelled time to first
        token, the rest spread over the remaining modelled latency (both slept x latency_scale)."""
        return ChatStream(self._stream(messages, max_tokens))

    def _stream(self, messages: list[dict[str, str]], max_tokens: int | None) -> Generator[str, None, ChatResult]:
        started = time.perf_counter()
        result = self._compose(messages, max_tokens)
        pieces = word_pieces(result.text)
        total = result.latency_ms
        # Prompt processing before the first token: a fixed part plus a small share of the total.
        first = min(total, (350.0 if self.role == "main" else 120.0) + 0.05 * total)
        step = (total - first) / max(1, len(pieces) - 1) if len(pieces) > 1 else 0.0
        for i, piece in enumerate(pieces):
            # Deadlines from the start, so sleeping does not drift over a long answer.
            remaining = (first + i * step) * self.latency_scale / 1000 - (time.perf_counter() - started)
            if remaining > 0:
                time.sleep(remaining)
            yield piece
        remaining = total * self.latency_scale / 1000 - (time.perf_counter() - started)
        if remaining > 0:
            time.sleep(remaining)
        result.first_token_ms = round(first, 1) if pieces else None
        return result

    def _answer(self, question: str, difficulty: float, rng: random.Random) -> str:
        lowered = question.lower()
        if len(question.split()) <= 6 and re.match(r"\s*(hi|hello|hey|thanks|thank you)\b", lowered):
            if lowered.lstrip().startswith("thank"):
                return "You're welcome! Glad that helped. Anything else I can do for you?"
            return "Hi there! I'm doing well, thanks for asking. What can I help you with today?"
        terms = key_terms(question) or ["question"]
        if self.role == "main":
            coverage, length_words, fail = 0.97, int(45 + 160 * difficulty), 0.02
        else:
            # The 1B model keeps up on easy questions and falls off past a knee of hidden difficulty.
            weakness = max(0.0, min(1.0, (difficulty - EMBEDDER_KNEE) / (1.0 - EMBEDDER_KNEE)))
            coverage = max(0.2, 0.97 - 0.9 * weakness * rng.uniform(0.6, 1.3))
            length_words = int(40 + 60 * difficulty * rng.uniform(0.3, 1.0))
            fail = 0.02 + 0.9 * weakness
        if rng.random() < fail * 0.3:
            return rng.choice(REFUSALS)
        kept = [t for t in terms if rng.random() < coverage] or terms[:1]
        sentences = [rng.choice(OPENERS).format(t=" and ".join(kept[:2]))]
        # Templates are drawn without replacement so long answers do not repeat themselves; the
        # answer walks through every kept term, then keeps going until it is long enough.
        templates = rng.sample(CONNECTORS, len(CONNECTORS))
        i = 0
        while i < len(templates) and (2 * i < len(kept) or len(" ".join(sentences).split()) < length_words):
            a, b = kept[(2 * i) % len(kept)], kept[(2 * i + 1) % len(kept)]
            sentences.append(templates[i].format(a=a, A=a.capitalize(), b=b))
            i += 1
        if 2 * i < len(kept):
            sentences.append(f"It is also worth checking {', '.join(kept[2 * i:])}.")
        if self.role == "embedder" and rng.random() < fail * 0.4:
            loop = " ".join(sentences[1:2] or sentences[:1])
            sentences = sentences[:1] + [loop] * rng.randint(4, 7)
        if self.role == "embedder" and rng.random() < fail * 0.4:
            words = " ".join(sentences).split()
            return " ".join(words[: max(6, len(words) // 4)])
        return " ".join(sentences)

    def _answer_with_truth(self, question: str, truth: Truth, rng: random.Random) -> tuple[str, bool]:
        """A fluent answer that ends by stating the right final answer, or (with the probability the
        model gets this difficulty wrong) a wrong one, mostly with the symptoms of a wrong answer."""
        correct = rng.random() < p_correct(self.role, truth.difficulty)
        stated = truth.reference if correct else truth.wrong
        terms = key_terms(question) or ["question"]
        words = int(30 + 90 * truth.difficulty * rng.uniform(0.6, 1.2))
        sentences = [rng.choice(OPENERS).format(t=" and ".join(terms[:2]))]
        templates = rng.sample(CONNECTORS, len(CONNECTORS))
        for i, template in enumerate(templates):
            if len(" ".join(sentences).split()) >= words:
                break
            a, b = terms[(2 * i) % len(terms)], terms[(2 * i + 1) % len(terms)]
            sentences.append(template.format(a=a, A=a.capitalize(), b=b))
        symptom = rng.random()
        if correct:
            if symptom < 0.05:
                sentences.insert(1, rng.choice(HEDGES))
            sentences.append(f"The answer is {stated}.")
        elif symptom < 0.35:
            sentences.insert(1, rng.choice(HEDGES))
            sentences.append(f"The answer is {stated}.")
        elif symptom < 0.55:
            sentences.append(f"At first it looks like {truth.reference}, but on reflection the answer is {stated}.")
        elif symptom < 0.7:
            sentences.append(f"It probably comes down to {stated}, although that depends on the details.")
        else:
            sentences.append(f"The answer is {stated}.")
        return " ".join(sentences), correct

    def ping(self) -> tuple[bool, str]:
        return True, f"simulated {self.role} model (latency scale {self.latency_scale:g})"
