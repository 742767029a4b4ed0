"""The exact numpy engine (float64): layers, activations, losses, optimizers, init, data.

Import from the submodules (``backprop_anim.engine.trainer`` ...): this package file
stays empty so that the config schema can read the registries without a cycle.
"""
