"""The live pipeline: the analysis run on chunks as they arrive, emitting typed events.

A consumer in DESIGN.md's sense (section 1): it is fed `Chunk`s from any source
(devices, the simulator, a replay, LSL) and never knows which. See
`sensorkit.live.pipeline` and `docs/architecture.md`.
"""
