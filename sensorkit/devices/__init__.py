"""Sources of chunks: devices, the simulated unit, file replay (DESIGN.md section 1)."""
