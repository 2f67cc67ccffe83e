"""Benchmarks, one module per `fanloop bench NAME`: each has `register_bench(subparsers)`."""
