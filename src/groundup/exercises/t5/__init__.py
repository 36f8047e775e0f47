"""Exercise t5: span corruption, T5's pre-training objective: the random noise mask and the
inputs and targets built from it with sentinel tokens."""
