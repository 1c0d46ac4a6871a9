"""Presenting results: text tables, CSV, and (later) HTML reports with plots."""
