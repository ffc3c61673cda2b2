"""``python -m minikeras demo``: train the pass/fail student network and show what it learned."""

import sys

USAGE = "usage: python -m minikeras demo"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv != ["demo"]:
        print(USAGE, file=sys.stderr)
        return 2
    from minikeras.demos.student_network import main as demo

    demo()
    return 0


if __name__ == "__main__":
    sys.exit(main())
