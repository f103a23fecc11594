"""Where files go, and how they are written so that a failure never leaves half a file behind.

The project root holds the published folders: `data/runs/` (every run of the registry), `figures/` and
`checkpoints/`. Only `make runs` and `make report` (through `pipeline`, with the registry's parameters) write
there; everything else, a notebook opened in JupyterLab or run with other parameters, writes under the ignored
`scratch/` folder. `output()` says which, for the current process:

- `$GROKGPT_OUTPUT`, when set (the pipeline points it at a staging folder that it merges into the root only
  after every cell succeeded, or at `scratch/<notebook>/`);
- otherwise `<root>/scratch/`.

`root()` is `$GROKGPT_ROOT` if set; else the working directory, or its parent when that is the project's
`notebooks/` folder (JupyterLab starts a kernel there). Tests point it at a temporary folder.

Files are written to a temporary name beside their target and renamed into place (`atomic_write`); a folder
is built beside its target and swapped in whole (`replace_dir`); a set of files that belong together (the split
files of a data set) is written in full to temporaries before any of them replaces the set that was there
(`replace_files`). Temporaries carry the writer's PID, so the next start can remove those whose writer is gone
(`clean_stale`). `check_writable` and `check_replaceable` find, before the work, a folder its result could not
be written to or would destroy. `lock` keeps a second process from computing what this one is computing.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

ROOT_ENV, OUTPUT_ENV = "GROKGPT_ROOT", "GROKGPT_OUTPUT"
RUNS = Path("data") / "runs"
FIGURES = Path("figures")
CHECKPOINTS = Path("checkpoints")
SCRATCH = Path("scratch")
TEMPORARY = re.compile(r"^\..+\.(tmp|old)-(?P<pid>\d+)$")  # .<name>.tmp-<pid>, .<name>.old-<pid>


def root() -> Path:
    """The project root (see the module docstring)."""
    if os.environ.get(ROOT_ENV):
        return Path(os.environ[ROOT_ENV])
    cwd = Path.cwd()
    if cwd.name == "notebooks" and (cwd.parent / "lib" / "grokgpt").is_dir():
        return cwd.parent
    return cwd


def check_project(path: Path | None = None) -> Path:
    """The project root (path, else `root()`), checked: ValueError (one line) unless it is a folder that holds
    data/runs/ or the library (a clone), so that a mistyped $GROKGPT_ROOT never reads as a project with no runs."""
    path = Path(path or root())
    if not path.is_dir():
        raise ValueError(f"the project root {path} ({ROOT_ENV} or the working folder) is not a folder")
    if not (path / RUNS).is_dir() and not (path / "lib" / "grokgpt").is_dir():
        raise ValueError(f"{path} is not a grokgpt project: it has no {RUNS}/ folder (set {ROOT_ENV} to the clone)")
    return path


def output() -> Path:
    """Where this process writes figures, checkpoints and new runs: $GROKGPT_OUTPUT, else <root>/scratch."""
    return Path(os.environ[OUTPUT_ENV]) if os.environ.get(OUTPUT_ENV) else root() / SCRATCH


def publishing() -> bool:
    """True when this process writes into the published folders (or a staging folder merged into them)."""
    return not output().resolve().is_relative_to((root() / SCRATCH).resolve())


# ----------------------------------------------------------------------------------------------------------------
# Writing whole files and folders


def temporary(path: Path, kind: str = "tmp") -> Path:
    """A hidden sibling of path named after this process: .<name>.<kind>-<pid>."""
    return path.with_name(f".{path.name}.{kind}-{os.getpid()}")


def _file_target(path: Path) -> None:
    """Refuse a target that is a folder or lies in a file, before anything is written; make its folder."""
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory")
    if path.parent.exists() and not path.parent.is_dir():
        raise NotADirectoryError(f"{path.parent} is a file, not a directory")
    path.parent.mkdir(parents=True, exist_ok=True)


def atomic_write(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call write(tmp), then rename tmp onto path; on any failure remove tmp and leave path as it was."""
    path = Path(path)
    _file_target(path)
    tmp = temporary(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def replace_files(texts: dict[Path, str], old: Iterable[Path] = ()) -> list[Path]:
    """Write each text to its path as one set, in place of the files old (those texts lack are removed).

    Every text is written to a temporary first: a failure there (a full disk, a folder in the way) removes the
    temporaries and leaves the previous set as it was. Only then are the old files removed and the new ones
    renamed into place. Returns the paths written."""
    for path in texts:
        _file_target(path)
    done = {}
    try:
        for path, text in texts.items():
            done[path] = temporary(path)
            done[path].write_text(text)
        for path in set(map(Path, old)) - set(texts):
            path.unlink(missing_ok=True)
        for path, tmp in done.items():
            os.replace(tmp, path)
    finally:
        for tmp in done.values():
            tmp.unlink(missing_ok=True)
    return list(texts)


def check_writable(folder: Path) -> None:
    """Raise OSError (one line) unless files and folders can be created in folder, or in its nearest existing
    ancestor where it is missing. Called before a long computation whose result goes there, not after it; it
    leaves nothing behind."""
    folder = Path(folder)
    existing = next(p for p in (folder, *folder.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise NotADirectoryError(f"{existing} is a file, not a directory")
    try:
        tempfile.TemporaryDirectory(dir=existing).cleanup()
    except OSError as err:
        raise OSError(f"cannot write in {folder}: {err.strerror or err}") from None


def check_replaceable(path: Path, names: Iterable[str]) -> None:
    """Raise (one line) unless the folder path can be replaced whole (`replace_dir`) without losing anything: it
    is new, or holds only files with the given names, and its parent is writable. Called before the work."""
    if path.is_symlink():
        raise ValueError(f"{path} is a symbolic link: give the folder itself (it is replaced whole)")
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"{path} is a file, not a directory")
    if path.absolute() in (Path.cwd(), *Path.cwd().parents) or path.resolve() in (Path.cwd(), *Path.cwd().parents):
        raise ValueError(f"{path} is the working folder or holds it: give a new folder for the run")
    other = sorted(p.name for p in path.iterdir() if p.name not in names or not p.is_file()) if path.is_dir() else []
    if other:
        listed = ", ".join(other[:3]) + (", ..." if len(other) > 3 else "")
        raise ValueError(f"{path} holds {listed}, which would be lost: it is replaced whole; give a new folder")
    check_writable(path.parent)


def replace_dir(new: Path, path: Path) -> None:
    """Move the folder new to path; an existing path is swapped out first and removed only afterwards. If the
    move fails (another process put its folder there meanwhile), the folder that was there is put back."""
    if path.is_symlink():
        raise ValueError(f"{path} is a symbolic link: give the folder itself")
    old = temporary(path, "old")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(path, old)
    except FileNotFoundError:  # nothing there (or another writer is swapping it right now)
        pass
    try:
        os.replace(new, path)
    except OSError:
        if old.exists() and not path.exists():
            os.replace(old, path)
        raise
    finally:
        remove(old)


def remove(path: Path) -> None:
    """Remove a file, a link (never what it points to) or a folder, if there."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(folder: Path, pattern: re.Pattern = TEMPORARY) -> list[Path]:
    """Remove the temporaries in folder (names matching pattern, with the writer's PID as its group `pid`) whose
    writing process is gone: killed runs, interrupted saves, killed notebooks."""
    removed = []
    for path in Path(folder).glob(".*"):
        match = pattern.match(path.name)
        if match and int(match["pid"]) != os.getpid() and not _alive(int(match["pid"])):
            remove(path)  # a leftover link is unlinked, never followed
            removed.append(path)
    return removed


def merge(staging: Path, target: Path) -> list[Path]:
    """Move everything under staging into target: files replace files, and a run folder (one holding
    config.json) replaces its counterpart whole. Returns the paths written under target."""
    moved = []
    for path in sorted(staging.rglob("*")):
        if not path.exists() or path.is_dir() and not (path / "config.json").is_file():
            continue
        dest = target / path.relative_to(staging)
        if path.is_dir():
            replace_dir(path, dest)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, dest)
        moved.append(dest)
    return moved


def lock(path: Path) -> IO | None:
    """An exclusive lock on path (a file or folder being made), held until the returned file is closed, or None
    when another process holds it. The lock is `flock` on the hidden, git-ignored file .<name>.lock beside path:
    the OS releases it when its process ends, so a killed process leaves no lock that blocks (and a leftover lock
    file is harmless)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    file = open(path.with_name(f".{path.name}.lock"), "a")  # noqa: SIM115 - held open for as long as the work lasts
    try:
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        file.close()
        return None
    return file


def unlock(file: IO, done: bool) -> None:
    """Release a lock taken by `lock`; once the work is done (path written), remove its lock file too. Any process
    that takes a lock after that, on this file or a new one, finds path written. After a failure the file stays:
    a process that opened it just before and one that made a new one could otherwise both hold a lock."""
    if done:
        Path(file.name).unlink(missing_ok=True)
    file.close()
