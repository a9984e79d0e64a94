"""One call end to end: CallerAgent listens, asks its brain, speaks, and fills the CallResult; its barge-in log,
its recording, and the lifecycle events faces listen to.
"""
