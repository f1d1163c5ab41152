"""Test helpers shared by every test package (a fake OpenAI-compatible server on loopback)."""
