"""Random and hostile manuscripts (:mod:`fuzz.manuscripts`), run through every output in-process (:mod:`fuzz.runner`)."""
