"""The shipped planner adapter (LoRA + heads, fp16) and its label sets: package data."""
