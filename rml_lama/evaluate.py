"""`python -m rml_lama.evaluate ARGS` and `torchrun ... -m rml_lama.evaluate ARGS`: the evaluation run's entry
point (the run itself is rml_lama.evaluation.run)."""
import sys

from .evaluation.run import main

if __name__ == "__main__":
    sys.exit(main())
