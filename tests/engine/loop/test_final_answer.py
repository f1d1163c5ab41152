"""Final-answer extraction and agreement: numbers, choice letters, yes/no, spans, and mixed kinds."""

from __future__ import annotations

import pytest

from engine.loop.final_answer import (
    FinalAnswer,
    compare_final_answers,
    extract_final_answer,
    format_number,
    normalise_span,
)


@pytest.mark.parametrize("text,value", [
    ("#### 1,234", "1234"),
    ("Natalia sold 48/2 = 24 clips in May.\nShe sold 48+24 = 72 clips altogether.\n#### 72", "72"),
    ("The answer is $1,200.50.", "1200.5"),
    ("The answer is 42.00 apples", "42"),
    ("Answer: 7 km", "7"),
    ("**Final answer:** 7", "7"),
    ("Final Answer: The final answer is 18. I hope it is correct.", "18"),
    ("\\boxed{0.50}", "0.5"),
    ("The answer is five.", "5"),
    ("The answer is -3", "-3"),
    ("She pays 3 * $4 = $12. Then 12 + 30 = 42 dollars.", "42"),
    ("3/4", "0.75"),
    ("50%", "50"),
    ("\u20ac 1,000", "1000"),
])
def test_numbers_are_read_and_normalised(text: str, value: str) -> None:
    answer = extract_final_answer(text)
    assert (answer.kind, answer.value) == ("number", value)
    assert answer.text == text


def test_the_last_number_of_a_worked_solution_wins() -> None:
    text = "First 12 * 3 = 36 eggs. She eats 4, so 36 - 4 = 32 eggs remain."
    assert extract_final_answer(text).value == "32"


def test_a_quantity_question_reads_the_last_number_of_plain_prose() -> None:
    answer = extract_final_answer("After lunch she still has 17 apples left in the basket.",
                                  question="How many apples does she have?")
    assert (answer.kind, answer.value) == ("number", "17")


def test_prose_with_incidental_numbers_stays_a_span() -> None:
    answer = extract_final_answer("Python 3 was released in 2008 and is widely used.")
    assert answer.kind == "span"
    assert answer.value == "python 3 was released in 2008 and is widely used"


@pytest.mark.parametrize("text,letter", [
    ("Answer: (B)", "B"),
    ("The answer is B because it is larger", "B"),
    ("the answer is (c).", "C"),
    ("B", "B"),
    ("(d)", "D"),
    ("E.", "E"),
])
def test_choice_letters(text: str, letter: str) -> None:
    answer = extract_final_answer(text)
    assert (answer.kind, answer.value) == ("choice", letter)


def test_a_question_with_options_finds_the_letter_inside_prose() -> None:
    question = "How many legs does a spider have? (A) 6 (B) 4 (C) 10 (D) 8"
    answer = extract_final_answer("Spiders are arachnids, so I pick (D) 8 legs.", question)
    assert (answer.kind, answer.value, answer.raw) == ("choice", "D", "(D)")


def test_an_article_is_not_a_choice() -> None:
    answer = extract_final_answer("The answer is A dog.")
    assert (answer.kind, answer.value) == ("span", "dog")


@pytest.mark.parametrize("text,question,value", [
    ("Yes, it is.", None, "yes"),
    ("No.", None, "no"),
    ("The answer is: No.", None, "no"),
    ("No single rule covers it, so it depends.", "Is there one rule for this?", "no"),
])
def test_yes_and_no(text: str, question: str | None, value: str) -> None:
    answer = extract_final_answer(text, question)
    assert (answer.kind, answer.value) == ("yesno", value)


def test_a_leading_no_without_a_yes_no_question_is_prose() -> None:
    assert extract_final_answer("No single rule covers it, so it depends.").kind == "span"


def test_free_text_gives_its_first_sentence_as_a_short_normalised_span() -> None:
    text = ("The capital of France is Paris, which sits on the Seine and has been the seat of government for "
            "a very long time indeed. It is also large.")
    answer = extract_final_answer(text)
    assert answer.kind == "span"
    assert answer.value.split()[:5] == ["capital", "of", "france", "is", "paris"]
    assert len(answer.value.split()) == 12


def test_empty_text_is_an_empty_span() -> None:
    assert extract_final_answer("") == FinalAnswer("span", "", "")


def test_normalisation_helpers() -> None:
    assert normalise_span("  The  Eiffel-Tower, in Paris! ") == "eiffel tower in paris"
    assert [format_number(v) for v in (100, 42.50, -0.0, 1.0)] == ["100", "42.5", "0", "1"]


@pytest.mark.parametrize("a,b,agreement", [
    ("42", "The answer is 41.", 0.0),
    ("42", "6 * 7 = 42", 1.0),
    ("1,000", "1000.0", 1.0),
    ("0.333", "1/3", 1.0),
    ("42", "41.6", 0.0),
    ("#### 18", "The answer is $18.00", 1.0),
    ("B", "I pick option B.", 1.0),
    ("Answer: (B)", "Answer: (C)", 0.0),
    ("yes", "No, never.", 0.0),
    ("Yes.", "yes!", 1.0),
    ("Paris", "The capital of France is Paris.", 1.0),
    ("Paris", "Berlin is the capital.", 0.0),
    ("", "", 0.0),
])
def test_agreement(a: str, b: str, agreement: float) -> None:
    assert compare_final_answers(a, b) == agreement
    assert compare_final_answers(b, a) == agreement


def test_span_agreement_is_graded_by_shared_words() -> None:
    score = compare_final_answers("red green blue yellow purple orange", "red green blue black white grey")
    assert 0.0 < score < 1.0


def test_tolerance_is_a_parameter() -> None:
    assert compare_final_answers("100", "101") == 0.0
    assert compare_final_answers("100", "101", rel_tol=0.02) == 1.0


def test_the_question_decides_between_readings() -> None:
    question = "How many legs does a spider have? (A) 6 (B) 4 (C) 10 (D) 8"
    reference = extract_final_answer("D", question)
    assert compare_final_answers(reference, extract_final_answer("It has 8 legs, so (D).", question)) == 1.0
    assert compare_final_answers(reference, extract_final_answer("(A) six legs", question)) == 0.0
