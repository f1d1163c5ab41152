"""Which recipe shapes a question, and the question and system prompt it gives: `choose_recipe`, the
one decision behind the gateway's chat and /choose, for the CLI and the dashboard too. It needs no
web framework: a RecipeStore and a Bandit (built over that store) are its whole context."""

from __future__ import annotations

from dataclasses import dataclass

from engine.prompts.bandit import Bandit, ChooseResult
from engine.prompts.recipes import Recipe
from engine.prompts.store import RecipeStore
from engine.prompts.transform import compute_local_transform

# The pair a request that names none is served with (when recipes exist for it).
DEFAULT_ASSISTANT = "chatgpt"
DEFAULT_CATEGORY = "general"
EXPLICIT = "explicit"  # the policy of a recipe the caller named


@dataclass(frozen=True)
class RecipeChoice:
    """What `choose_recipe` decided. Without a recipe, question and system prompt pass unchanged."""

    recipe: Recipe | None
    policy: str | None  # "explicit", the bandit's "epsilon_greedy" or "fixed"; None: no recipe
    question: str | None  # after the recipe's local operators; None when none was given
    system_prompt: str | None  # the recipe's (transformed), then the caller's; None when neither has one
    selection: ChooseResult | None  # the bandit's pick, counted and logged; None when explicit or no recipe

    @property
    def recipe_id(self) -> str | None:
        return self.recipe.id if self.recipe is not None else None


def choose_recipe(recipes: RecipeStore, bandit: Bandit, *, question: str | None = None,
                  assistant: str | None = None, category: str | None = None, recipe_id: str | None = None,
                  session_id: str | None = None, system: str | None = None) -> RecipeChoice:
    """Pick the recipe for a request and apply its local operators to the question.

    - `recipe_id` given (non-empty): that recipe (policy "explicit"); the bandit is not asked.
    - otherwise the bandit's pick for (assistant, category), with "chatgpt" / "general" for the one
      that is None (a string, even empty, is used as given): epsilon-greedy with BANDIT_ENABLED=1,
      the pair's default recipe (policy "fixed") with 0. Either way the pick is counted and logged
      as a bandit_selection event (with `session_id`). When both are None and the default pair has
      no recipes, no recipe is used.
    - `question` given: the recipe's local operators run on it (assist operators do not: an answer
      costs one model call); the system prompt is the recipe's, then `system` (the caller's own).
      Without a question (as for /choose) only the pick is made.

    Raises UnknownRecipeError for an unknown `recipe_id`, UnknownArmError for a named pair
    without recipes (both InputError), StateError when the bandit database fails.
    """
    recipe: Recipe | None = None
    policy: str | None = None
    selection: ChooseResult | None = None
    if recipe_id:
        recipe, policy = recipes.get().get(recipe_id), EXPLICIT
    else:
        pair = (DEFAULT_ASSISTANT if assistant is None else assistant,
                DEFAULT_CATEGORY if category is None else category)
        named = assistant is not None or category is not None
        if named or recipes.get().for_pair(*pair):
            selection = bandit.choose(*pair, session_id=session_id)
            recipe, policy = recipes.get().get(selection.recipe_id), selection.policy

    system_prompt = system or None
    if recipe is not None and question is not None:
        recipe_system, question = compute_local_transform(recipe, question)
        system_prompt = "\n\n".join(part for part in (recipe_system, system) if part)
    return RecipeChoice(recipe, policy, question, system_prompt, selection)
