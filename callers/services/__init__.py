"""Paid models: the OpenAI Realtime session, the end-of-call judge, token prices. The SDK is imported only
when a session opens.
"""
