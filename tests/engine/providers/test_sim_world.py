"""The simulator can be wrong: demo questions carry a truth (reference, wrong answer, hidden
difficulty), the simulated models answer right with a probability that falls with difficulty
(faster for the embedder), and the engine's quality tells their right answers from wrong ones."""

from __future__ import annotations

from engine.loop.quality import score_answer
from engine.providers.sim import SimProvider
from engine.providers.sim_world import generate_questions, p_correct, truth_of
from engine.routing.routers import get_router


def auc(positives: list[float], negatives: list[float]) -> float:
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def answers(role: str, n: int = 1200) -> list[tuple[str, object, object]]:
    sim = SimProvider(role, f"sim-{role}", seed=3, latency_scale=0)
    out = []
    for item in generate_questions(n, seed=5):
        truth = truth_of(item.question)
        if truth is not None:
            out.append((item, truth, sim.chat([{"role": "user", "content": item.question}])))
    return out


def test_every_generated_question_but_small_talk_and_open_requests_has_a_truth():
    items = generate_questions(2000, seed=1)
    open_ended = {"support", "creative"}
    missing = [q.question for q in items if truth_of(q.question) is None and q.category not in open_ended]
    assert all(q in ("hi, how are you?", "Thanks, that helped!") for q in missing)
    assert truth_of("What is the capital of France? Keep it short, please.").reference == "Paris"
    assert truth_of("Sorry if this is basic, but what is 12 times 3?").reference == "36"
    assert truth_of("How do I make my boss like me?") is None  # a user's own question: no truth


def test_the_embedder_falls_off_faster_with_difficulty():
    assert p_correct("main", 0.1) > 0.98 and p_correct("embedder", 0.1) > 0.98
    assert p_correct("main", 0.8) - p_correct("embedder", 0.8) > 0.3
    right = {role: [a.sim_correct for _, t, a in answers(role) if t.difficulty > 0.55] for role in ("main", "embedder")}
    assert sum(right["main"]) / len(right["main"]) > sum(right["embedder"]) / len(right["embedder"]) + 0.2


def test_a_wrong_answer_states_the_wrong_final_answer_fluently():
    wrong = [(t, a) for _, t, a in answers("embedder") if a.sim_correct is False]
    assert wrong
    for truth, answer in wrong:
        assert truth.wrong in answer.text and len(answer.text.split()) > 15


def test_reference_quality_separates_wrong_answers_and_the_heuristic_no_longer_ignores_them():
    router = get_router("complexity")
    reference = {True: [], False: []}
    heuristic = {True: [], False: []}
    for role in ("main", "embedder"):
        for item, truth, answer in answers(role):
            score = router.score(item.question, item.trait)
            reference[answer.sim_correct].append(score_answer(item.question, answer.text, score,
                                                              reference=truth.reference).quality)
            heuristic[answer.sim_correct].append(score_answer(item.question, answer.text, score).quality)
    assert auc(reference[True], reference[False]) >= 0.9
    assert auc(heuristic[True], heuristic[False]) >= 0.65
