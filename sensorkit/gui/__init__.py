"""The pyqtgraph application (`sensorkit monitor`, `sensorkit replay`): live traces and the
clinical panel, fed by the live pipeline's events and the display buffers; it draws what
the pipeline found and never analyses on its own."""
