"""The progress bar printed by ``fit``, ``evaluate`` and ``predict`` (``keras.utils.Progbar``).

It writes exactly Keras 3's bytes. With ``verbose=1`` each update rewrites the same line: a run of
``\\b`` erases the previous line, ``\\r`` returns to its start, then comes
``ESC[1m 3/10ESC[0m`` (bold counter), the bar (``━`` in green ``ESC[32m`` for the steps done,
in grey ``ESC[37m`` for the rest), ``ESC[1m 2sESC[0m`` (the ETA, or the elapsed time once
finished), the time per step (``s/step``, ``ms/step`` or ``us/step``) and ``- name: value`` for
each metric. Updates closer than ``interval`` (0.05 s) to the previous one are skipped, except the
last; the last one ends the line. ``verbose=2`` prints a single line when the bar finishes.

``fit`` passes metrics that are already running averages; like Keras 3's ``ProgbarLogger`` it
creates the bar with ``stateless_metrics=set()`` so they are shown as given, not re-averaged.
"""

import math
import os
import sys
import time

import numpy as np

from minikeras.utils import io_utils


class Progbar:
    """``Progbar(target, width=20, verbose=1, interval=0.05, stateful_metrics=None,
    stateless_metrics=None, unit_name="step")``.

    ``target`` is the number of steps (None if unknown). By default every metric is *stateless*:
    the bar shows its average over the steps so far, each update weighted by the number of steps it
    covers. Names in ``stateful_metrics`` are shown as given; alternatively, pass
    ``stateless_metrics`` to list the only names that are averaged.
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None,
                 stateless_metrics=None, unit_name="step"):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Only one of `stateful_metrics` or `stateless_metrics` can be provided. "
                f"Received: stateful_metrics={stateful_metrics}, "
                f"stateless_metrics={stateless_metrics}")
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        if stateless_metrics is not None:
            self.stateful_metrics = None
            self.stateless_metrics = set(stateless_metrics)
        else:
            self.stateful_metrics = set(stateful_metrics or ())
            self.stateless_metrics = None
        # Keras's test: on Linux "posix" is always imported, so a pipe gets \b and \r too.
        self._dynamic_display = ((hasattr(sys.stdout, "isatty") and sys.stdout.isatty())
                                 or "ipykernel" in sys.modules or "posix" in sys.modules
                                 or "PYCHARM_HOSTED" in os.environ)
        self._seen_so_far = 0
        self._values = {}  # name -> [sum of value * steps, steps]
        self._values_order = []
        self._start = time.time()
        self._last_update = 0
        self._time_after_first_step = None
        self._prev_total_width = 0

    def update(self, current, values=None, finalize=None):
        """Show step ``current``. ``values``: a list of ``(name, value)`` pairs.

        ``finalize`` defaults to ``current >= target``; the final update prints the elapsed time
        instead of the ETA and ends the line.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._accumulate(current, values or [], finalize)
        self._seen_so_far = current

        now = time.time()
        time_per_unit = self._estimate_step_duration(current, now)
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            self._write(self._verbose1_line(current, now, time_per_unit, finalize))
        elif self.verbose == 2 and finalize and self.target is not None and self.target > 0:
            self._write(self._verbose2_line(current, now, time_per_unit))
        self._last_update = now

    def add(self, n, values=None):
        """Advance by ``n`` steps."""
        self.update(self._seen_so_far + n, values)

    # --- metric bookkeeping --------------------------------------------------------------------
    def _is_stateless(self, name):
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in self.stateless_metrics

    def _accumulate(self, current, values, finalize):
        """Stateless values are summed, weighted by the steps since the last update; the final
        update replaces the sum (Keras does this so an end-of-epoch call is not counted twice)."""
        for name, value in values:
            if name not in self._values_order:
                self._values_order.append(name)
            if not self._is_stateless(name) or finalize:
                self._values[name] = [value, 1]
                continue
            steps = max(current - self._seen_so_far, 1)
            if name not in self._values:
                self._values[name] = [value * steps, steps]
            else:
                self._values[name][0] += value * steps
                self._values[name][1] += steps

    def _average(self, name):
        total, count = self._values[name]
        if not isinstance(total, float):
            total = np.mean(total)
        return total / max(1, count)

    # --- formatting ----------------------------------------------------------------------------
    def _counter(self, current):
        """``" 7/10"``: the step number right-aligned to the width of the target."""
        numdigits = int(math.log10(self.target)) + 1
        return f"{int(current):{numdigits}d}/{int(self.target)}"

    def _verbose1_line(self, current, now, time_per_unit, finalize):
        message = "\b" * self._prev_total_width + "\r" if self._dynamic_display else "\n"
        special_char_len = 0  # bytes of escape codes, which take no room on screen
        if self.target is not None and self.target > 0:
            bar = f"\x1b[1m{self._counter(current)}\x1b[0m "
            special_char_len += 8
            prog_width = int(self.width * float(current) / self.target)
            if prog_width > 0:
                bar += f"\x1b[32m{'━' * prog_width}\x1b[0m"
                special_char_len += 9
            bar += f"\x1b[37m{'━' * (self.width - prog_width)}\x1b[0m"
            special_char_len += 9
        else:
            bar = f"{int(current):7d}/Unknown"

        if self.target is not None and self.target > 0 and not finalize:
            info = f" \x1b[1m{_format_eta(time_per_unit * (self.target - current))}\x1b[0m"
        else:
            info = f" \x1b[1m{now - self._start:.0f}s\x1b[0m"
        special_char_len += 8
        info += _format_time(time_per_unit, self.unit_name)
        for name in self._values_order:
            avg = self._average(name)
            info += f" - {name}: {avg:.4f}" if abs(avg) > 1e-3 else f" - {name}: {avg:.4e}"

        total_width = len(bar) + len(info) - special_char_len
        message += bar + info
        if self._prev_total_width > total_width:  # blank out the rest of a longer old line
            message += " " * (self._prev_total_width - total_width)
        if finalize:
            message += "\n"
        self._prev_total_width = total_width
        return message

    def _verbose2_line(self, current, now, time_per_unit):
        info = f"{self._counter(current)} - {now - self._start:.0f}s"
        info += f" -{_format_time(time_per_unit, self.unit_name)}"
        for name in self._values_order:
            avg = self._average(name)
            # Keras compares avg (not |avg|) here, so negative values print as %.4e.
            info += f" - {name}: {avg:.4f}" if avg > 1e-3 else f" - {name}: {avg:.4e}"
        return info + "\n"

    @staticmethod
    def _write(message):
        io_utils.print_msg(message, line_break=False)  # stdout, or `logging` if not interactive

    def _estimate_step_duration(self, current, now):
        """Seconds per step. The first step (often slow: setup, compilation) is left out of the
        estimate as soon as later steps are known: (now - t_after_step_1) / (current - 1)."""
        if not current:
            return 0
        if self._time_after_first_step is not None and current > 1:
            time_per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            time_per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return time_per_unit


def _format_eta(eta):
    """``"1:02:03"`` above an hour, ``"2:03"`` above a minute, else ``"42s"``."""
    if eta > 3600:
        return f"{int(eta // 3600)}:{int((eta % 3600) // 60):02d}:{int(eta % 60):02d}"
    if eta > 60:
        return f"{int(eta // 60)}:{int(eta % 60):02d}"
    return f"{int(eta)}s"


def _format_time(time_per_unit, unit_name):
    """``" 2s/step"`` (>= 1 s, or exactly 0), ``" 35ms/step"`` (>= 1 ms), else ``" 80us/step"``."""
    if time_per_unit >= 1 or time_per_unit == 0:
        return f" {time_per_unit:.0f}s/{unit_name}"
    if time_per_unit >= 1e-3:
        return f" {time_per_unit * 1000.0:.0f}ms/{unit_name}"
    return f" {time_per_unit * 1000000.0:.0f}us/{unit_name}"
