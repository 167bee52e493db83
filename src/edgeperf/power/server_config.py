"""The director's configuration file, in power-dev r1.1's INI format (power.md §4.1).

``[server]``: ``ntpServer`` (required; ``host`` or ``host:port``), ``listen`` (``"IP PORT"``, default
``0.0.0.0 4950``). ``[ptd]``: ``ptd`` (the analyzer command: a path, or a command line, e.g.
``python -m edgeperf.power.analyzer_sim``), ``networkPort`` (8888), ``deviceType``,
``interfaceFlag`` (``""``, ``-n``, ``-g``, ``-y`` or ``-U``), ``devicePort``, optional ``gpibBoard``
and ``channel`` (``N`` or ``N,M``). Unknown options and sections are listed as warnings.
The analyzer is started as ``<ptd> -l <tmp>/ptd_logfile.txt -p <port> [-b B] [-c C] [flag] TYPE PORT``.
"""

from __future__ import annotations

import configparser
import ipaddress
import os
import shlex
from dataclasses import dataclass, field

from ..errors import EdgeperfError
from .proto import DEFAULT_PORT

__all__ = ["ConfigError", "ServerConfig", "load_server_config", "MULTICHANNEL_DEVICES"]

MULTICHANNEL_DEVICES = (48, 59, 61, 77)
DEVICE_TYPE_WT500 = 48
_INTERFACE_FLAGS = ("", "-n", "-g", "-y", "-U")
_KNOWN = {
    "server": {"ntpserver", "listen"},
    "ptd": {"ptd", "networkport", "devicetype", "interfaceflag", "deviceport", "gpibboard", "channel"},
}


class ConfigError(EdgeperfError, ValueError):
    """A server config file that cannot be used; names the file, section and option."""


@dataclass
class ServerConfig:
    path: str
    ntp_server: str
    host: str
    port: int
    ptd: list[str]
    ptd_port: int
    device_type: int
    interface_flag: str
    device_port: str
    gpib_board: int | None = None
    channel: list[int] | None = None
    warnings: list[str] = field(default_factory=list)

    def ptd_command(self, log_path: str) -> list[str]:
        """The analyzer's argv for a sample log at ``log_path``."""
        return [
            *self.ptd,
            "-l",
            log_path,
            "-p",
            str(self.ptd_port),
            *([] if self.gpib_board is None else ["-b", str(self.gpib_board)]),
            *([] if self.channel is None else ["-c", ",".join(str(c) for c in self.channel)]),
            *([] if self.interface_flag == "" else [self.interface_flag]),
            str(self.device_type),
            self.device_port,
        ]

    def ptd_summary(self, log_path: str) -> dict:
        """``ptd_config`` of server.json."""
        return {
            "command": self.ptd_command(log_path),
            "device_type": self.device_type,
            "interface_flag": self.interface_flag,
            "device_port": self.device_port,
            "channel": self.channel,
        }

    def ranging_channels(self) -> list[int]:
        """The ``ChK`` groups that count for the testing range (§6.2 step 3)."""
        if not self.channel:
            return []
        if self.device_type == DEVICE_TYPE_WT500:
            return list(range(1, self.channel[0] + 1))
        if len(self.channel) == 2:
            return list(range(self.channel[0], self.channel[0] + self.channel[1]))
        return []


def load_server_config(path: str | os.PathLike) -> ServerConfig:
    """Read and validate a config file; ConfigError for anything unusable."""
    path = os.fspath(path)
    conf = configparser.ConfigParser()
    try:
        with open(path, encoding="utf-8") as f:
            conf.read_file(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        raise ConfigError(f"{path}: not a readable INI file ({exc})") from None

    def get(section: str, option: str, default=None, required=True) -> str:
        if conf.has_option(section, option):
            return conf.get(section, option)
        if required and default is None:
            raise ConfigError(f"{path}: [{section}] {option} is missing")
        return default

    def as_int(section: str, option: str, text: str) -> int:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{path}: [{section}] {option} = {text!r} is not an integer") from None

    ntp = get("server", "ntpServer")
    listen = get("server", "listen", f"0.0.0.0 {DEFAULT_PORT}")
    parts = listen.split(" ")
    if len(parts) != 2:
        raise ConfigError(f"{path}: [server] listen = {listen!r}: expected 'IP PORT', e.g. '127.0.0.1 4950'")
    try:
        ipaddress.ip_address(parts[0])
    except ValueError:
        raise ConfigError(f"{path}: [server] listen = {listen!r}: {parts[0]!r} is not an IP address") from None
    port = as_int("server", "listen", parts[1])
    ptd_text = get("ptd", "ptd")
    try:
        ptd = shlex.split(ptd_text)
    except ValueError as exc:
        raise ConfigError(f"{path}: [ptd] ptd = {ptd_text!r}: {exc}") from None
    if not ptd:
        raise ConfigError(f"{path}: [ptd] ptd is empty (expected the PTDaemon or simulator command)")
    ptd_port = as_int("ptd", "networkPort", get("ptd", "networkPort", "8888"))
    device_type = as_int("ptd", "deviceType", get("ptd", "deviceType"))
    flag = get("ptd", "interfaceFlag").strip()
    if flag not in _INTERFACE_FLAGS:
        raise ConfigError(f"{path}: [ptd] interfaceFlag = {flag!r}: expected one of '', -n, -g, -y, -U")
    device_port = get("ptd", "devicePort")
    board_text = get("ptd", "gpibBoard", required=False)
    board = None if board_text is None else as_int("ptd", "gpibBoard", board_text)
    channel_text = get("ptd", "channel", required=False)
    channel = None
    if channel_text is not None:
        try:
            channel = [int(x) for x in channel_text.split(",")]
        except ValueError:
            raise ConfigError(f"{path}: [ptd] channel = {channel_text!r}: expected N or N,M") from None
    if device_type in MULTICHANNEL_DEVICES:
        if not channel:
            raise ConfigError(f"{path}: [ptd] channel must be set for the multichannel device type {device_type}")
        want = 1 if device_type == DEVICE_TYPE_WT500 else 2
        if len(channel) != want:
            raise ConfigError(
                f"{path}: [ptd] channel must be {'one number' if want == 1 else 'two numbers'} "
                f"for the multichannel device type {device_type}"
            )
    elif channel and len(channel) != 1:
        raise ConfigError(
            f"{path}: [ptd] channel must be one number or absent for the 1-channel device type {device_type}"
        )
    warnings = []
    for section in conf.sections():
        if section not in _KNOWN:
            warnings.append(f"{path}: ignoring unknown section [{section}]")
            continue
        extra = set(conf[section].keys()) - _KNOWN[section]
        if extra:
            warnings.append(f"{path}: ignoring unknown options in [{section}]: {', '.join(sorted(extra))}")
    return ServerConfig(
        path, ntp, parts[0], port, ptd, ptd_port, device_type, flag, device_port, board, channel, warnings
    )
