"""The HTTP gateway: an OpenAI-compatible endpoint over the loop, recipes, the bandit and metrics."""
