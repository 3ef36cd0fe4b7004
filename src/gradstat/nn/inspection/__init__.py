"""Looking inside a network: the chain-rule trace, gradient checks, vanishing gradients, pictures."""
