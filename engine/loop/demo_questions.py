"""Demo questions of mixed difficulty and traits, deterministic for a seed.

They read like what people ask an assistant: quick facts, small talk, how-tos, code, math word
problems and multi-part analysis. `simulate` and the dashboard's "Generate demo traffic" use them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class DemoQuestion:
    question: str
    trait: str
    category: str


COUNTRIES = [("France", "Paris"), ("Japan", "Tokyo"), ("Canada", "Ottawa"), ("Kenya", "Nairobi"),
             ("Peru", "Lima"), ("Norway", "Oslo"), ("Vietnam", "Hanoi"), ("Egypt", "Cairo")]
THINGS = ["photosynthesis", "inflation", "a black hole", "the immune system", "compound interest",
          "the greenhouse effect", "a neural network", "DNS", "the Doppler effect", "supply and demand",
          "plate tectonics", "a vaccine", "blockchain", "the stock market", "jet lag"]
PEOPLE = ["Marie Curie", "Alan Turing", "Ada Lovelace", "Isaac Newton", "Frida Kahlo", "Nelson Mandela",
          "Leonardo da Vinci", "Rosalind Franklin"]
TASKS = ["change a flat tyre", "make sourdough bread", "back up my laptop", "set up two-factor authentication",
         "remove a red wine stain", "prepare for a job interview", "start running as a beginner",
         "repot a houseplant", "write a cover letter", "clean a cast iron pan", "negotiate a salary"]
LANGS = ["Python", "JavaScript", "Go", "Rust", "Java", "SQL"]
CODE_TASKS = [
    "reverses a linked list", "checks whether a string is a palindrome", "merges two sorted lists",
    "finds the most frequent word in a text file", "parses a CSV file and sums one column",
    "implements an LRU cache", "removes duplicates from a list while keeping the order",
    "retries an HTTP request with exponential backoff", "validates an email address with a regex",
    "computes a moving average over a stream of numbers",
]
BUGS = [
    ("TypeError: 'NoneType' object is not subscriptable", "when I read a key from a dict returned by my function"),
    ("IndexError: list index out of range", "inside a loop that deletes items from the list"),
    ("a deadlock", "when two threads lock the same two mutexes"),
    ("UnboundLocalError", "after I added a counter inside a nested function"),
    ("a race condition", "when several async tasks append to the same file"),
]
TOPICS = [
    ("microservices", "a monolith", "a team of six engineers"),
    ("renting", "buying a home", "someone who may move cities in three years"),
    ("SQL", "NoSQL databases", "an online shop with 10,000 orders a day"),
    ("remote work", "office work", "a startup that hires junior developers"),
    ("nuclear power", "wind and solar", "a country that wants to cut emissions by 2040"),
    ("electric cars", "hybrids", "a family that drives 80 km a day"),
    ("Kubernetes", "a single VM with docker compose", "a side project with a few hundred users"),
]
FEELINGS = ["I feel overwhelmed at work lately", "I'm nervous about a presentation tomorrow",
            "my friend stopped replying to my messages", "I can't sleep before exams"]
CREATIVE = ["a short poem about autumn rain", "a two-sentence horror story about a lighthouse",
            "a catchy name for a bakery that sells only croissants", "a haiku about debugging at night",
            "a birthday message for my grandmother who loves gardening"]


def _fact(rng: random.Random) -> DemoQuestion:
    kind = rng.randrange(4)
    if kind == 0:
        country, _ = rng.choice(COUNTRIES)
        return DemoQuestion(f"What is the capital of {country}?", "general", "fact")
    if kind == 1:
        return DemoQuestion(f"Who was {rng.choice(PEOPLE)}?", "general", "fact")
    if kind == 2:
        return DemoQuestion(f"What is {rng.choice(THINGS)} in one sentence?", "general", "fact")
    return DemoQuestion(rng.choice(["hi, how are you?", "Thanks, that helped!", "What day comes after Friday?",
                                    "How many legs does a spider have?", "Is a tomato a fruit?"]),
                        "casual", "smalltalk")


def _howto(rng: random.Random) -> DemoQuestion:
    task = rng.choice(TASKS)
    form = rng.randrange(3)
    if form == 0:
        return DemoQuestion(f"How do I {task}?", "general", "howto")
    if form == 1:
        return DemoQuestion(f"Can you give me simple steps to {task}?", "general", "howto")
    return DemoQuestion(f"Explain how {rng.choice(THINGS)} works to a curious 12-year-old.", "general", "explain")


def _code(rng: random.Random) -> DemoQuestion:
    lang = rng.choice(LANGS[:5])
    form = rng.randrange(3)
    if form == 0:
        return DemoQuestion(f"Write a {lang} function that {rng.choice(CODE_TASKS)}.", "technical", "code")
    if form == 1:
        error, where = rng.choice(BUGS)
        return DemoQuestion(f"I get {error} in my {lang} code {where}. Why does this happen and how do I "
                            f"fix it?", "technical", "debug")
    task = rng.choice(CODE_TASKS)
    return DemoQuestion(f"Write a {lang} function that {task}, explain its time complexity in big-O, "
                        f"and add two unit tests for the edge cases.", "technical", "code")


def _math(rng: random.Random) -> DemoQuestion:
    form = rng.randrange(4)
    if form == 0:
        a, b = rng.randint(40, 90), rng.randint(60, 120)
        h = rng.randint(1, 3)
        return DemoQuestion(f"A train leaves at 9:00 travelling at {a} km per hour. Another leaves the same "
                            f"station {h} hours later at {b} km per hour on the same track. When does the "
                            f"second train catch up, if ever?", "analytical", "math")
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
    a, b, who = rng.choice(TOPICS)
    form = rng.randrange(2)
    if form == 0:
        return DemoQuestion(f"Compare {a} and {b} for {who}. What are the main trade-offs in cost, risk "
                            f"and flexibility? Which would you recommend, and why?", "analytical", "analysis")
    return DemoQuestion(f"I'm deciding between {a} and {b} for {who}. First, list the three factors that "
                        f"matter most; then analyse each option against them; finally, say what would "
                        f"change your recommendation.", "analytical", "analysis")


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
    makers, weights = zip(*MIX)
    return [_dress(rng.choices(makers, weights)[0](rng), rng) for _ in range(n)]
