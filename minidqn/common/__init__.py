"""What every part uses: value checks that name the bad field, and the checkpoint archive.

`validation` holds the checks shared by configs, optimizers and the env boundary; `checkpoint`
writes and reads one .npz of named arrays plus JSON, atomically and without pickle. Neither knows
networks, replay or agents.

May import: nothing of minidqn.
"""
