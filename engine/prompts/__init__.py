"""Before the loop: prompt recipes (pydantic models, validated on load, hot-reloaded), the operator
catalog and transform, `choose_recipe`, and the recipe bandit (pure policy, SQLite store, service).

Modules: operators (catalog) <- recipes (models, validation) <- store (folders, reload) <- transform
(plan, apply) <- bandit/ (policy, store, service) <- choose. None imports this package itself, so
any of them can be imported first.
"""

from engine.prompts.bandit import Bandit, BanditStore, ChooseResult, UnknownArmError
from engine.prompts.choose import DEFAULT_ASSISTANT, DEFAULT_CATEGORY, RecipeChoice, choose_recipe
from engine.prompts.recipes import Recipe, RecipeSet, UnknownRecipeError, ValidationIssue
from engine.prompts.store import RecipeStore, load_recipes
from engine.prompts.transform import Plan, TransformResult, compute_plan, compute_transform

__all__ = [
    "Bandit", "BanditStore", "ChooseResult", "UnknownArmError", "DEFAULT_ASSISTANT", "DEFAULT_CATEGORY",
    "RecipeChoice", "choose_recipe", "Recipe", "RecipeSet", "UnknownRecipeError", "ValidationIssue",
    "RecipeStore", "load_recipes", "Plan", "TransformResult", "compute_plan", "compute_transform",
]
