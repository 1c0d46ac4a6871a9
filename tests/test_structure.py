"""The code's shape: no import cycles among sensorkit's modules (imports inside functions
included), so every module can be read, tested and moved on its own."""

import grimp


def test_no_import_cycle_among_sensorkits_modules():
    graph = grimp.build_graph("sensorkit")
    closing = sorted(
        (m, imported)
        for m in graph.modules
        for imported in graph.find_modules_directly_imported_by(m)
        if imported.startswith("sensorkit") and graph.chain_exists(importer=imported, imported=m)
    )
    assert closing == []
