"""Where the analyzer simulator's samples come from (power.md §13.4). None of these is AC wall power.

* ``constant:W``     -- W watts every sample;
* ``replay:PATH``    -- the Watts/Volts/Amps/PF of a real spl.txt, one line per sample, cycled;
* ``rapl``           -- Linux powercap (``/sys/class/powercap/intel-rapl:N/energy_uj``), package
  zones plus their dram sub-zones, from counter deltas (wrap at ``max_energy_range_uj``);
* ``nvml[:INDEX]``   -- NVIDIA board power through ``pynvml`` (the ``nvidia-ml-py`` package).

Each source gives (watts, volts, amps, pf). Volts and amps must be positive or the director's
ranging fails, so the software sources report a nominal 230 V and PF 1.0 with amps = W / V.
"""

from __future__ import annotations

import glob
import os
import time
from dataclasses import dataclass

from ..errors import EdgeperfError

__all__ = ["NOMINAL_VOLTS", "PowerSource", "SourceError", "open_source"]

NOMINAL_VOLTS = 230.0


class SourceError(EdgeperfError):
    """A power source that cannot be used on this machine or with this argument."""


@dataclass(frozen=True)
class Reading:
    watts: float
    volts: float
    amps: float
    pf: float


class PowerSource:
    """Base: :meth:`read` gives one :class:`Reading`; :attr:`description` says what it is."""

    description = "power source"

    def read(self) -> Reading:  # pragma: no cover - overridden
        raise SourceError("abstract power source")

    def close(self) -> None:
        """Release what the source holds (NVML handle)."""


def _nominal(watts: float) -> Reading:
    return Reading(watts, NOMINAL_VOLTS, watts / NOMINAL_VOLTS if watts > 0 else 0.0, 1.0)


class ConstantSource(PowerSource):
    def __init__(self, watts: float) -> None:
        self.watts = watts
        self.description = f"constant {watts:g} W (synthetic)"

    def read(self) -> Reading:
        return _nominal(self.watts)


class ReplaySource(PowerSource):
    """Cycles through the samples of a real spl.txt (multichannel files: the top-level fields)."""

    def __init__(self, path: str) -> None:
        try:
            with open(path, "rb") as fh:
                lines = fh.read().decode("utf-8", errors="replace").splitlines()
        except OSError as exc:
            raise SourceError(f"replay:{path}: cannot read the spl.txt ({exc.strerror or exc})") from None
        self.samples: list[Reading] = []
        for n, line in enumerate(lines, 1):
            f = line.split(",")
            if len(f) < 10 or f[0] != "Time" or f[2] != "Watts" or f[4] != "Volts" or f[6] != "Amps" or f[8] != "PF":
                raise SourceError(
                    f"replay:{path}:{n}: expected Time,<ts>,Watts,w,Volts,v,Amps,a,PF,pf,..., found {line[:60]!r}"
                )
            try:
                self.samples.append(Reading(float(f[3]), float(f[5]), float(f[7]), float(f[9])))
            except ValueError:
                raise SourceError(f"replay:{path}:{n}: a Watts/Volts/Amps/PF value is not a number") from None
        if not self.samples:
            raise SourceError(f"replay:{path}: the file has no sample lines")
        self._next = 0
        self.description = f"replay of {os.path.basename(path)} ({len(self.samples)} samples, cycled)"

    def read(self) -> Reading:
        r = self.samples[self._next]
        self._next = (self._next + 1) % len(self.samples)
        return r


class RaplSource(PowerSource):
    """Package (and dram) energy counters of Linux powercap, as watts over the last interval."""

    def __init__(self, root: str = "/sys/class/powercap") -> None:
        zones = sorted(glob.glob(os.path.join(root, "intel-rapl:[0-9]*")))
        # Top-level packages, plus their dram sub-zones (core/uncore lie inside the package figure).
        picked = [z for z in zones if os.path.basename(z).count(":") == 1]
        for z in zones:
            if os.path.basename(z).count(":") == 2 and _read_text(os.path.join(z, "name")) == "dram":
                picked.append(z)
        if not picked:
            raise SourceError(
                f"rapl: no RAPL zones under {root} (this machine has no Linux powercap RAPL "
                "interface; use constant:W or replay:spl.txt)"
            )
        self.zones = picked
        self._max = {}
        for z in picked:
            try:
                self._max[z] = int(_read_text(os.path.join(z, "max_energy_range_uj")) or 0)
            except ValueError:
                self._max[z] = 0
        self._last = self._counters()
        self._last_t = time.monotonic()
        self.description = f"Linux RAPL ({len(picked)} zones; DC component power, not AC wall power)"

    def _counters(self) -> dict[str, int]:
        out = {}
        for z in self.zones:
            path = os.path.join(z, "energy_uj")
            try:
                with open(path) as f:
                    out[z] = int(f.read().strip())
            except PermissionError:
                raise SourceError(
                    f"rapl: {path} is readable by root only (since the CVE-2020-8694 fix); run the simulator as root"
                ) from None
            except (OSError, ValueError) as exc:
                raise SourceError(f"rapl: cannot read {path} ({exc})") from None
        return out

    def read(self) -> Reading:
        now, t = self._counters(), time.monotonic()
        dt = max(t - self._last_t, 1e-6)
        joules = 0.0
        for z, value in now.items():
            delta = value - self._last[z]
            if delta < 0:  # the counter wrapped
                delta += self._max[z]
            joules += delta / 1e6
        self._last, self._last_t = now, t
        return _nominal(joules / dt)


def _read_text(path: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


class NvmlSource(PowerSource):
    """NVIDIA board power (``nvmlDeviceGetPowerUsage``, mW) of one GPU."""

    def __init__(self, index: int = 0) -> None:
        try:
            import pynvml
        except ImportError:
            raise SourceError("nvml: the pynvml module is not installed (pip install nvidia-ml-py)") from None
        try:
            pynvml.nvmlInit()
            self._handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        except Exception as exc:  # pynvml raises NVMLError subclasses for every failure
            raise SourceError(f"nvml: no usable NVIDIA GPU {index} ({exc}); use constant:W or replay:spl.txt") from None
        self._nvml = pynvml
        self.description = f"NVML board power of GPU {index} (DC board power, not AC wall power)"

    def read(self) -> Reading:
        try:
            milliwatts = self._nvml.nvmlDeviceGetPowerUsage(self._handle)
        except Exception as exc:
            raise SourceError(f"nvml: reading the power failed ({exc})") from None
        return _nominal(milliwatts / 1000.0)

    def close(self) -> None:
        try:
            self._nvml.nvmlShutdown()
        except Exception:  # already shut down: nothing to release
            pass


def open_source(spec: str) -> PowerSource:
    """``constant:W``, ``replay:PATH``, ``rapl`` or ``nvml[:INDEX]`` -> a source; SourceError otherwise."""
    kind, _, arg = spec.partition(":")
    if kind == "constant":
        try:
            watts = float(arg)
        except ValueError:
            raise SourceError(f"source {spec!r}: expected constant:<watts>, e.g. constant:50") from None
        if not watts == watts or watts < 0:
            raise SourceError(f"source {spec!r}: the watts must be a non-negative number")
        return ConstantSource(watts)
    if kind == "replay":
        if not arg:
            raise SourceError(f"source {spec!r}: expected replay:<path to spl.txt>")
        return ReplaySource(arg)
    if kind == "rapl":
        return RaplSource(arg or "/sys/class/powercap")
    if kind == "nvml":
        try:
            index = int(arg or 0)
        except ValueError:
            raise SourceError(f"source {spec!r}: expected nvml or nvml:<GPU index>") from None
        return NvmlSource(index)
    raise SourceError(f"source {spec!r}: expected constant:W, replay:spl.txt, rapl or nvml[:INDEX]")
