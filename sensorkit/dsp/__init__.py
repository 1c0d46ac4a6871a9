"""Signal processing: filters, envelopes, onset detectors, orientation (see DESIGN.md 3)."""
