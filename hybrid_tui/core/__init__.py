"""The core: the pipeline with no Textual, one folder per stage.

`plan/` -> `spec/` (with `convert/`) -> `run/` -> `verify.py` -> `review/` -> `land/`. Shared by
every stage: `runs.py` (the run record, its lifecycle, the store), `git.py` (every git call,
the repository root, the branch tips; the only user of GitPython), `repo_lock.py` (one writer
at a time), `errors.py`, `inert.py`, `private_files.py`, `project.py`.
"""
