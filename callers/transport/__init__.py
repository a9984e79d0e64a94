"""The only code that touches the caller's socket: connect (TLS trust, cooperative sockets), send paced audio,
read and stamp what arrives, feed the wire session and hand its events to the call.
"""
