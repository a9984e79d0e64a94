"""--host checking: one sentence naming the problem, credentials never shown."""
import socket

from loadtest import hostcheck


def test_form_problems():
    assert "no bridge URL" in hostcheck.scheme_problem(None)
    assert "must be a ws:// or wss://" in hostcheck.scheme_problem("http://127.0.0.1:8000/ws")
    assert "not a valid URL" in hostcheck.scheme_problem("ws://127.0.0.1:notaport/ws")
    assert "no host name" in hostcheck.scheme_problem("ws:///ws")
    assert hostcheck.scheme_problem("wss://bridge.example.com/ws/telephony") is None


def test_credentials_are_not_repeated():
    problem = hostcheck.scheme_problem("http://user:secret@127.0.0.1:8000/ws?token=abc")
    assert "secret" not in problem and "abc" not in problem


def test_reachability():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        assert hostcheck.bridge_problem(f"ws://127.0.0.1:{port}/ws/telephony") is None
    assert "connection refused" in hostcheck.bridge_problem(f"ws://127.0.0.1:{port}/ws/telephony")
    assert "cannot resolve host" in hostcheck.bridge_problem("ws://no-such-host.invalid/ws")
