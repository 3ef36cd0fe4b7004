"""Ready-made models and tasks: LeNet and friends, the character model, the adding problem."""
