"""A whole study in one command (`sensorkit batch`): every recording of a folder or glob
analysed, one table for the study.

`sources` finds the recordings and names each by its path below the study's root;
`rows` turns one `analyze` result into the study table's rows; `run` analyses the
recordings on a local process pool or a Dask cluster, resumably, writing per-session
results, `study.csv`/`.parquet` and `errors.csv`.
"""
