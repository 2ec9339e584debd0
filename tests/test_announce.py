"""The sentence a screen reader hears after an update (known answers)."""

from __future__ import annotations

from ui.announce import ModelChange, moved_words, sentence

CAT = ModelChange("ImageNet-pretrained", (2.0, 0.0), "Egyptian cat", 0.61, 0.58, "Egyptian cat", 0.58)


def test_the_move_is_said_in_words_with_its_directions():
    assert moved_words(8, 0) == "8 px right"
    assert moved_words(-3, 5) == "3 px left and 5 px down"
    assert moved_words(0, -2) == "2 px up"
    assert moved_words(0, 0) == ""


def test_one_sentence_names_the_move_the_layers_shift_and_the_first_class():
    assert sentence("star", (8, 0), "features.3", [CAT]) == (
        "The star is 8 px right from the reference. ImageNet-pretrained: features.3 moved (+2.0, +0.0) cells; "
        "top class still Egyptian cat, 61.0% → 58.0%."
    )


def test_a_new_first_class_and_an_unmeasured_layer():
    tabby = ModelChange("Scratch twin", None, "Egyptian cat", 0.61, 0.2, "tabby", 0.4)
    assert sentence("cat", (0, 0), "features.3", [tabby]) == (
        "The cat is at the reference position. Scratch twin: top class now tabby (40.0%); Egyptian cat 61.0% → 20.0%."
    )
