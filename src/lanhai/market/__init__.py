"""The technology market's matching core: the bilingual lexicon (:mod:`.lexicon`) and the
explained ranking of offers against demands (:mod:`.matching`). Pure: no store, no services."""
