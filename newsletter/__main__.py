"""`python -m newsletter` and the `newsletter` command: `newsletter.cli`, imported with the
cyclic garbage collector off (the imports make some ten thousand objects and no garbage:
collecting them costs ~3 ms of every start; `build` turns it off again for the whole build)."""

import gc


def start() -> None:
    gc.disable()
    from newsletter.cli import run

    gc.enable()
    run()


if __name__ == "__main__":
    start()
