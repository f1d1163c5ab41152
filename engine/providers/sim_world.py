"""The simulator's world: demo questions of mixed difficulty and traits, and the truth about them.

`generate_questions` makes what people ask an assistant (quick facts, small talk, how-tos, code,
math word problems, multi-part analysis), deterministic for a seed; `simulate` and the dashboard's
"Generate demo traffic" use them. `truth_of(question)` is a pure function of the text: the reference
answer, a plausible wrong answer and a hidden difficulty, so that the simulator (in any process: CLI,
gateway, dashboard) knows what a right answer says and can be wrong the way a model is. Questions it
does not recognise (anything a user types) have no truth: the simulator answers them as before.

The hidden difficulty is the template's own plus a per-question jitter the text does not show, so a
router's complexity score can only partly predict it, as on real traffic.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class DemoQuestion:
    question: str
    trait: str
    category: str


@dataclass(frozen=True)
class Truth:
    """What the simulator knows about a question: the right final answer, a wrong one that reads as
    plausible, and how hard the question is in [0, 1] (never shown to the router)."""

    reference: str
    wrong: str
    difficulty: float
    category: str


COUNTRIES = {"France": "Paris", "Japan": "Tokyo", "Canada": "Ottawa", "Kenya": "Nairobi", "Peru": "Lima",
             "Norway": "Oslo", "Vietnam": "Hanoi", "Egypt": "Cairo"}
THINGS = {
    "photosynthesis": "plants turn light, water and carbon dioxide into sugar and oxygen",
    "inflation": "a general rise in prices that lowers what money can buy",
    "a black hole": "a region where gravity is so strong that not even light escapes",
    "the immune system": "the body's defence that finds and destroys germs",
    "compound interest": "interest earned on both the money and the interest already added",
    "the greenhouse effect": "gases in the air trap heat that the ground radiates",
    "a neural network": "layers of weighted sums and nonlinearities trained from examples",
    "DNS": "the system that translates domain names into IP addresses",
    "the Doppler effect": "a change in frequency when the source moves relative to the listener",
    "supply and demand": "prices settle where what sellers offer meets what buyers want",
    "plate tectonics": "the slow movement of the plates that make up the earth's crust",
    "a vaccine": "a harmless piece of a germ that trains the immune system to recognise it",
    "blockchain": "an append-only ledger copied across many computers and linked by hashes",
    "the stock market": "a marketplace where shares of companies are bought and sold",
    "jet lag": "tiredness when the body clock is out of step with the local time",
}
PEOPLE = {
    "Marie Curie": "a physicist and chemist who won two Nobel Prizes for work on radioactivity",
    "Alan Turing": "a mathematician who founded computer science and broke the Enigma code",
    "Ada Lovelace": "a mathematician who wrote the first program for Babbage's Analytical Engine",
    "Isaac Newton": "a physicist who formulated the laws of motion and universal gravitation",
    "Frida Kahlo": "a Mexican painter known for her self-portraits",
    "Nelson Mandela": "an anti-apartheid leader who became South Africa's first Black president",
    "Leonardo da Vinci": "a Renaissance painter and inventor who painted the Mona Lisa",
    "Rosalind Franklin": "a chemist whose X-ray images revealed the double helix of DNA",
}
# (task, the step a right answer hinges on)
TASKS = {
    "change a flat tyre": "loosen the wheel nuts before you jack up the car",
    "make sourdough bread": "feed the starter until it doubles before mixing the dough",
    "back up my laptop": "keep one copy on an external drive and one off site",
    "set up two-factor authentication": "scan the code with an authenticator app and save the recovery codes",
    "remove a red wine stain": "blot it and rinse with cold water before it dries",
    "prepare for a job interview": "research the company and practise answers to common questions",
    "start running as a beginner": "alternate walking and running and build up slowly",
    "repot a houseplant": "choose a pot one size larger with drainage holes",
    "write a cover letter": "tailor it to the job and show one concrete achievement",
    "clean a cast iron pan": "wash it with hot water, dry it and oil it lightly",
    "negotiate a salary": "anchor with a researched number and let them make the first offer",
}
LANGS = ["Python", "JavaScript", "Go", "Rust", "Java"]
# (code task, the technique a right answer uses, its time complexity)
CODE_TASKS = {
    "reverses a linked list": ("walk the list once and flip each next pointer", "O(n)"),
    "checks whether a string is a palindrome": ("compare characters from both ends moving inwards", "O(n)"),
    "merges two sorted lists": ("advance two pointers and take the smaller head each time", "O(n + m)"),
    "finds the most frequent word in a text file": ("count words in a hash map then take the maximum", "O(n)"),
    "parses a CSV file and sums one column": ("read rows with a csv parser and add the column values", "O(n)"),
    "implements an LRU cache": ("combine a hash map with a doubly linked list", "O(1)"),
    "removes duplicates from a list while keeping the order": ("keep a set of items already seen", "O(n)"),
    "retries an HTTP request with exponential backoff": ("double the wait after each failure up to a limit",
                                                         "O(k)"),
    "validates an email address with a regex": ("match one at sign with a dotted domain after it", "O(n)"),
    "computes a moving average over a stream of numbers": ("keep a running sum over a fixed window", "O(1)"),
}
# (error, where, the cause a right answer names)
BUGS = {
    "TypeError: 'NoneType' object is not subscriptable": (
        "when I read a key from a dict returned by my function",
        "the function returns None on some path instead of the dict"),
    "IndexError: list index out of range": (
        "inside a loop that deletes items from the list",
        "deleting items shifts the indexes while you iterate over the list"),
    "a deadlock": (
        "when two threads lock the same two mutexes",
        "the threads take the two locks in opposite orders"),
    "UnboundLocalError": (
        "after I added a counter inside a nested function",
        "assigning the counter makes it local unless you declare it nonlocal"),
    "a race condition": (
        "when several async tasks append to the same file",
        "the tasks interleave their writes without a lock"),
}
# (option a, option b, who, the option a careful analysis recommends)
TOPICS = [
    ("microservices", "a monolith", "a team of six engineers", "a monolith"),
    ("renting", "buying a home", "someone who may move cities in three years", "renting"),
    ("SQL", "NoSQL databases", "an online shop with 10,000 orders a day", "SQL"),
    ("remote work", "office work", "a startup that hires junior developers", "office work"),
    ("nuclear power", "wind and solar", "a country that wants to cut emissions by 2040", "wind and solar"),
    ("electric cars", "hybrids", "a family that drives 80 km a day", "electric cars"),
    ("Kubernetes", "a single VM with docker compose", "a side project with a few hundred users",
     "a single VM with docker compose"),
]
SMALLTALK = {
    "What day comes after Friday?": ("Saturday", "Thursday"),
    "How many legs does a spider have?": ("8", "6"),
    "Is a tomato a fruit?": ("yes", "no"),
}
GREETINGS = ["hi, how are you?", "Thanks, that helped!"]
FEELINGS = ["I feel overwhelmed at work lately", "I'm nervous about a presentation tomorrow",
            "my friend stopped replying to my messages", "I can't sleep before exams"]
CREATIVE = ["a short poem about autumn rain", "a two-sentence horror story about a lighthouse",
            "a catchy name for a bakery that sells only croissants", "a haiku about debugging at night",
            "a birthday message for my grandmother who loves gardening"]


def _fact(rng: random.Random) -> DemoQuestion:
    kind = rng.randrange(4)
    if kind == 0:
        return DemoQuestion(f"What is the capital of {rng.choice(list(COUNTRIES))}?", "general", "fact")
    if kind == 1:
        return DemoQuestion(f"Who was {rng.choice(list(PEOPLE))}?", "general", "fact")
    if kind == 2:
        return DemoQuestion(f"What is {rng.choice(list(THINGS))} in one sentence?", "general", "fact")
    return DemoQuestion(rng.choice(GREETINGS + list(SMALLTALK)), "casual", "smalltalk")


def _howto(rng: random.Random) -> DemoQuestion:
    task = rng.choice(list(TASKS))
    form = rng.randrange(4)
    if form == 0:
        return DemoQuestion(f"How do I {task}?", "general", "howto")
    if form == 1:
        return DemoQuestion(f"Can you give me simple steps to {task}?", "general", "howto")
    return DemoQuestion(f"Explain how {rng.choice(list(THINGS))} works to a curious 12-year-old.", "general",
                        "explain")


def _code(rng: random.Random) -> DemoQuestion:
    lang = rng.choice(LANGS)
    form = rng.randrange(3)
    if form == 0:
        return DemoQuestion(f"Write a {lang} function that {rng.choice(list(CODE_TASKS))}.", "technical", "code")
    if form == 1:
        error = rng.choice(list(BUGS))
        return DemoQuestion(f"I get {error} in my {lang} code {BUGS[error][0]}. Why does this happen and how "
                            f"do I fix it?", "technical", "debug")
    return DemoQuestion(f"Write a {lang} function that {rng.choice(list(CODE_TASKS))}, explain its time "
                        f"complexity in big-O, and add two unit tests for the edge cases.", "technical", "code")


def _math(rng: random.Random) -> DemoQuestion:
    form = rng.randrange(4)
    if form == 0:
        a = rng.randint(40, 90)
        b, h = a + rng.randint(10, 40), rng.randint(1, 3)
        return DemoQuestion(f"A train leaves at 9:00 travelling at {a} km per hour. Another leaves the same "
                            f"station {h} hours later at {b} km per hour on the same track. How many hours "
                            f"after it leaves does the second train catch up?", "analytical", "math")
    if form == 1:
        p, r, y = rng.choice([1000, 2500, 5000]), rng.choice([3, 4, 5, 7]), rng.randint(2, 10)
        return DemoQuestion(f"If I invest ${p} at {r} percent interest compounded yearly, how much will I "
                            f"have after {y} years?", "analytical", "math")
    if form == 2:
        n, k = rng.randint(3, 8), rng.randint(2, 6)
        return DemoQuestion(f"A bag has {n} red and {k} blue marbles. I draw two without replacement. What "
                            f"is the probability that both are blue?", "analytical", "math")
    a, b = rng.randint(2, 30), rng.randint(2, 30)
    return DemoQuestion(f"What is {a} times {b}?", "general", "arithmetic")


def _analysis(rng: random.Random) -> DemoQuestion:
    a, b, who, _ = rng.choice(TOPICS)
    if rng.randrange(2) == 0:
        return DemoQuestion(f"Compare {a} and {b} for {who}. What are the main trade-offs in cost, risk "
                            f"and flexibility? Which would you recommend, and why?", "analytical", "analysis")
    return DemoQuestion(f"I'm deciding between {a} and {b} for {who}. First, list the three factors that "
                        f"matter most; then analyse each option against them; finally, say which you "
                        f"recommend and what would change your mind.", "analytical", "analysis")


def _soft(rng: random.Random) -> DemoQuestion:
    if rng.random() < 0.5:
        return DemoQuestion(f"{rng.choice(FEELINGS)}. Any advice?", "empathetic", "support")
    return DemoQuestion(f"Write {rng.choice(CREATIVE)}.", "creative", "creative")


# Context people add around a question; it varies length and wording the way real traffic does.
PREFIXES = ["", "", "", "", "Quick question: ", "I'm new to this. ", "For a report at work, ",
            "My teacher asked us this and I'm stuck. ", "Sorry if this is basic, but ",
            "I've read a few articles and I'm still confused. "]
SUFFIXES = ["", "", "", "", " Keep it short, please.", " Please explain your reasoning.",
            " An example would help.", " I need this for tomorrow.",
            " Assume I know the basics but not the details.", " Thanks!"]


def _dress(item: DemoQuestion, rng: random.Random) -> DemoQuestion:
    if item.category == "smalltalk":
        return item
    prefix = rng.choice(PREFIXES)
    question = item.question
    if prefix and prefix.rstrip()[-1] in ".:?!":
        question = prefix + question
    elif prefix:  # the prefix runs into the question: "Sorry if this is basic, but how do I ..."
        question = prefix + question[0].lower() + question[1:]
    return DemoQuestion(question + rng.choice(SUFFIXES), item.trait, item.category)


# Mix of categories: roughly the traffic of a general assistant.
MIX = [(_fact, 0.22), (_howto, 0.20), (_soft, 0.10), (_code, 0.18), (_math, 0.15), (_analysis, 0.15)]


def generate_questions(n: int, seed: int = 0) -> list[DemoQuestion]:
    """`n` demo questions, the same list for the same seed."""
    rng = random.Random(f"demo-questions|{seed}")
    makers, weights = zip(*MIX, strict=True)
    return [_dress(rng.choices(makers, weights)[0](rng), rng) for _ in range(n)]


# The truth ------------------------------------------------------------------------------------

def _jitter(question: str, spread: float) -> float:
    """A per-question offset in [-spread, spread] the text does not reveal (a stable hash)."""
    digest = hashlib.sha256(f"difficulty|{question}".encode()).digest()
    return (int.from_bytes(digest[:4], "big") / 2**32 * 2 - 1) * spread


def _other(options: list[str], right: str, question: str) -> str:
    """A wrong option, chosen stably for the question."""
    others = [o for o in options if o != right]
    digest = hashlib.sha256(f"wrong|{question}".encode()).digest()
    return others[digest[0] % len(others)]


def _money(value: float) -> str:
    return f"${value:,.2f}"


def _number(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text or "0"


# Questions answered by looking their subject up: (pattern, table, category, base difficulty).
LOOKUPS: list[tuple[str, dict[str, str], str, float]] = [
    (r"capital of (\w+)\?", COUNTRIES, "fact", 0.08),
    (r"Who was ([A-Z][\w ]+?)\?", PEOPLE, "fact", 0.15),
    (r"What is (.+?) in one sentence\?", THINGS, "fact", 0.18),
    (r"Explain how (.+?) works to a curious 12-year-old", THINGS, "explain", 0.18),
]


def _solve(core: str) -> tuple[str, str, str, float] | None:
    """(reference, wrong, category, base difficulty) of an undressed demo question, or None."""
    for pattern, table, category, base in LOOKUPS:
        if m := re.search(pattern, core):
            right = table.get(m.group(1))
            return (right, _other(list(table.values()), right, core), category, base) if right else None
    if m := re.search(r"I get (.+?) in my \w+ code", core):
        bug = BUGS.get(m.group(1))
        causes = [cause for _, cause in BUGS.values()]
        return (bug[1], _other(causes, bug[1], core), "debug", 0.62) if bug else None
    if m := re.search(r"(?:How do I|simple steps to) (.+?)\?", core, re.I):
        right = TASKS.get(m.group(1))
        return (right, _other(list(TASKS.values()), right, core), "howto", 0.2) if right else None
    if m := re.search(r"function that (.+?), explain its time complexity", core):
        task = CODE_TASKS.get(m.group(1))
        bigo = sorted({c for _, c in CODE_TASKS.values()} | {"O(n^2)", "O(n log n)"})
        return (task[1], _other(bigo, task[1], core), "code", 0.6) if task else None
    if m := re.search(r"function that (.+?)\.", core):
        task = CODE_TASKS.get(m.group(1))
        techniques = [t for t, _ in CODE_TASKS.values()]
        return (task[0], _other(techniques, task[0], core), "code", 0.25) if task else None
    if m := re.search(r"travelling at (\d+) km per hour.*?(\d+) hours later at (\d+) km per hour", core):
        a, h, b = (int(g) for g in m.groups())
        return _number(a * h / (b - a)), _number(a * h / b), "math", 0.72
    if m := re.search(r"invest \$(\d+) at (\d+) percent interest compounded yearly.*?after (\d+) years", core):
        p, r, y = (int(g) for g in m.groups())
        return _money(p * (1 + r / 100) ** y), _money(p * (1 + r * y / 100)), "math", 0.62
    if m := re.search(r"has (\d+) red and (\d+) blue marbles", core):
        n, k = (int(g) for g in m.groups())
        both_blue = k * (k - 1) / ((n + k) * (n + k - 1))
        return _number(round(both_blue, 4)), _number(round((k / (n + k)) ** 2, 4)), "math", 0.76
    if m := re.search(r"What is (\d+) times (\d+)\?", core):
        x, y = (int(g) for g in m.groups())
        return str(x * y), str(x * y + (10 if (x + y) % 2 else -10)), "arithmetic", 0.1 + 0.2 * (x * y > 200)
    for one, other, who, best in TOPICS:
        if f"{one} and {other} for {who}" in core:
            return best, (other if best == one else one), "analysis", 0.58
    if core in SMALLTALK:
        right, wrong = SMALLTALK[core]
        return right, wrong, "smalltalk", 0.04
    return None


def truth_of(question: str) -> Truth | None:
    """What the simulator knows about `question` (a demo question, dressed or not), else None."""
    core = question.strip()
    for prefix in sorted(PREFIXES, key=len, reverse=True):
        if prefix and core.lower().startswith(prefix.lower().rstrip()):
            core = core[len(prefix.rstrip()):].lstrip()
            break
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if suffix and core.endswith(suffix.strip()):
            core = core[: len(core) - len(suffix.strip())].rstrip()
            break
    if core and core[0].islower():
        core = core[0].upper() + core[1:]
    solved = _solve(core)
    if solved is None:
        return None
    reference, wrong, category, base = solved
    difficulty = min(1.0, max(0.0, base + _jitter(question, 0.12)))
    return Truth(reference, wrong, round(difficulty, 4), category)


def p_correct(role: str, difficulty: float) -> float:
    """How likely a simulated model answers a question of this hidden difficulty correctly: the main
    model slips a little on hard questions; the embedder keeps up on easy ones and falls off fast."""
    d = max(0.0, min(1.0, difficulty))
    if role == "main":
        return 0.997 - 0.25 * d * d
    return max(0.05, 0.995 - 2.0 * max(0.0, d - 0.3) ** 1.5)
