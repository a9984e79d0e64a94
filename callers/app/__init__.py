"""Running calls for a person or a pipeline: the commands' CLI, batches, the CI gate, the interactive menu, the
bridge probe, and the seed's ready-made callers. Nothing in callers imports it.
"""
