"""Detection: fake reviews and manipulated ratings. Every method is a function over plain
arrays (edge lists), so it can move to a distributed engine without a rewrite."""
