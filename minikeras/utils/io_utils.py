"""Where minikeras prints: stdout, or the ``logging`` module (``keras.utils.io_utils``).

Interactive logging is on by default: the progress bar and callback messages go to stdout.
``keras.config.disable_interactive_logging()`` sends them instead to the ``logging`` logger named
``"minikeras"`` at level INFO (Keras uses ``absl.logging``), which suits jobs run on a server.
"""

import logging
import sys

_INTERACTIVE_LOGGING = [True]
logger = logging.getLogger("minikeras")


def enable_interactive_logging():
    """Print logs (progress bar, callback messages) to stdout: the default."""
    _INTERACTIVE_LOGGING[0] = True


def disable_interactive_logging():
    """Send logs to ``logging.getLogger("minikeras").info`` instead of stdout."""
    _INTERACTIVE_LOGGING[0] = False


def is_interactive_logging_enabled():
    """``True`` when logs go to stdout, ``False`` when they go to the ``logging`` module."""
    return _INTERACTIVE_LOGGING[0]


def print_msg(message, line_break=True):
    """Write ``message`` (plus a newline) to stdout and flush, or log it when interactive
    logging is disabled."""
    message = str(message)
    if _INTERACTIVE_LOGGING[0]:
        sys.stdout.write(f"{message}\n" if line_break else message)
        sys.stdout.flush()
    else:
        logger.info(message)
