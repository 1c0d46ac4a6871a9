"""Recording to disk: XDF writer and reader, crash-safe recorder (DESIGN.md section 4)."""
