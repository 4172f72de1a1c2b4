"""What every part uses: value checks that name the bad field, safe files, and the checkpoint archive.

`validation` holds the checks shared by configs, optimizers and the env boundary; `files` writes a
file atomically and opens only regular files; `checkpoint` writes and reads one .npz of named
arrays plus JSON, atomically and without pickle. None knows networks, replay or agents.

May import: nothing of minidqn.
"""
