"""Clinical analysis: exercises, activation timing, pelvic drop (see DESIGN.md 3)."""
