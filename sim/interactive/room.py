"""Serving a classroom: the addresses students type to open ``sim viz``, and a QR code.

``sim viz --host 0.0.0.0`` listens on every network interface; the address a student needs
is the teacher's machine's address on the classroom network (``http://192.168.1.20:8765/``),
not ``127.0.0.1``, which on a student's machine is the student's own. Off the loopback
address every address carries the class's join token (``?join=...``,
:mod:`sim.interactive.guard`). :func:`lan_addresses`
lists the machine's IPv4 addresses on interfaces that are up (psutil), loopback and
link-local ones left out; :func:`qr_code` draws the first address as a QR code in the
terminal (segno), for phones and tablets.
"""

from __future__ import annotations

import io
import ipaddress
import socket

ANY = ("0.0.0.0", "", "::")
"""Hosts that mean "every interface"."""


def lan_addresses() -> list[str]:
    """IPv4 addresses of this machine on interfaces that are up, private ones first."""
    import psutil

    stats = psutil.net_if_stats()
    found: list[ipaddress.IPv4Address] = []
    for name, addresses in psutil.net_if_addrs().items():
        if name in stats and not stats[name].isup:
            continue
        for address in addresses:
            if address.family != socket.AF_INET:
                continue
            ip = ipaddress.IPv4Address(address.address)
            if ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip in found:
                continue
            found.append(ip)
    found.sort(key=lambda ip: (not ip.is_private, ip))
    return [str(ip) for ip in found]


def urls(host: str, port: int) -> list[str]:
    """The addresses to open: every LAN address when listening on all interfaces (none if
    the machine has no network), else the one host given."""
    if host in ANY:
        return [f"http://{address}:{port}/" for address in lan_addresses()]
    shown = f"[{host}]" if ":" in host else host
    return [f"http://{shown}:{port}/"]


def qr_code(url: str) -> str:
    """``url`` as a QR code drawn with block characters (two rows per line of text)."""
    import segno

    buffer = io.StringIO()
    segno.make(url, error="m", micro=False).terminal(out=buffer, compact=True, border=2)
    return buffer.getvalue()


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach ``host`` (no join token needed there)."""
    try:
        return host in LOOPBACK or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def with_token(url: str, token: str | None) -> str:
    """``url`` with the join token the page needs off the loopback address."""
    return f"{url}?join={token}" if token else url


def banner(host: str, port: int, *, token: str | None = None) -> str:
    """What ``sim viz`` prints at start: where to open the page (and a QR code for a room);
    ``token``: the join token every address carries (:mod:`sim.interactive.guard`)."""
    local = with_token(f"http://127.0.0.1:{port}/", token)
    if host not in ANY:
        return f"sim viz: open {with_token(urls(host, port)[0], token)} in a browser (Ctrl+C stops)"
    addresses = [with_token(u, token) for u in urls(host, port)]
    if not addresses:
        return (
            f"sim viz: open {local} in a browser (Ctrl+C stops)\n"
            "sim viz: this machine has no network address: students cannot reach it; "
            "join the classroom network and start again"
        )
    lines = [
        f"sim viz: on this machine open {local}; students on the same network open:",
        *(f"    {url}" for url in addresses),
        "sim viz: or scan this code (the first address):",
        qr_code(addresses[0]).rstrip("\n"),
        "sim viz: Ctrl+C stops",
    ]
    return "\n".join(lines)


def class_banner(host: str, port: int, *, join: str, teacher: str) -> str:
    """What ``sim viz --class`` prints: the teacher's address (their token: keep it to
    yourself) and the students' address with the class's join token, as a QR code too."""
    local = f"http://127.0.0.1:{port}/"
    students = [f"{url}?join={join}" for url in (urls(host, port) if host in ANY else [])]
    if host not in ANY:
        students = [f"{urls(host, port)[0]}?join={join}"]
    lines = [
        f"sim viz --class: the teacher's screen (keep this address to yourself): "
        f"{local}?teacher={teacher}",
        "sim viz --class: students open:",
        *(f"    {url}" for url in students),
    ]
    if students and host in ANY:
        lines += ["sim viz --class: or scan this code:", qr_code(students[0]).rstrip("\n")]
    lines.append("sim viz --class: Ctrl+C stops")
    return "\n".join(lines)
