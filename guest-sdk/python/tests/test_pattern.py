"""The SDK's glob matcher against the host's: every case of
``pattern/agreement.json`` (written from the host's matcher by the
``pattern`` crate's ``shared_cases`` test), and the API around it."""

from __future__ import annotations

import json
import unittest
from pathlib import Path

from pp_secrets_provider import Pattern, PatternError

AGREEMENT = Path(__file__).resolve().parents[3] / "pattern" / "agreement.json"


class AgreementTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.cases = json.loads(AGREEMENT.read_text(encoding="utf-8"))

    def test_the_cases_are_there(self) -> None:
        # An empty or truncated file would let every loop below pass.
        self.assertGreaterEqual(len(self.cases["names"]), 30)
        self.assertGreaterEqual(len(self.cases["patterns"]), 40)
        self.assertGreaterEqual(len(self.cases["refused"]), 1)

    def test_every_pattern_matches_exactly_the_host_names(self) -> None:
        names = self.cases["names"]
        for case in self.cases["patterns"]:
            with self.subTest(pattern=case["pattern"]):
                pattern = Pattern(case["pattern"])
                self.assertEqual([n for n in names if pattern.matches(n)], case["matches"])
                self.assertEqual(pattern.filter(names), case["matches"])

    def test_refused_patterns_are_refused(self) -> None:
        for text in self.cases["refused"]:
            with self.subTest(pattern=text):
                with self.assertRaises(PatternError) as caught:
                    Pattern(text)
                self.assertEqual(caught.exception.pattern, text)
                self.assertIn("invalid range", caught.exception.reason)


class PatternApiTest(unittest.TestCase):
    def test_refusal_reads_like_the_hosts(self) -> None:
        with self.assertRaises(PatternError) as caught:
            Pattern("[z-a]")
        self.assertEqual(str(caught.exception), 'invalid pattern "[z-a]": invalid range z-a')

    def test_exact_names_and_literal_prefixes(self) -> None:
        self.assertTrue(Pattern("db_password").is_exact)
        self.assertFalse(Pattern("db_*").is_exact)
        self.assertEqual(Pattern("db_*").literal_prefix, "db_")
        self.assertEqual(Pattern("app/?b[c]").literal_prefix, "app/")
        self.assertEqual(Pattern("exact").literal_prefix, "exact")
        self.assertEqual(Pattern("*").literal_prefix, "")

    def test_exact_takes_wildcards_literally(self) -> None:
        pattern = Pattern.exact("a*b")
        self.assertTrue(pattern.is_exact)
        self.assertTrue(pattern.matches("a*b"))
        self.assertFalse(pattern.matches("axb"))
        self.assertTrue(Pattern("a*b").matches("axb"))

    def test_characters_not_bytes(self) -> None:
        self.assertTrue(Pattern("caf?").matches("café"))
        self.assertFalse(Pattern("caf??").matches("café"))
        self.assertTrue(Pattern("[à-ü]").matches("é"))

    def test_stars_backtrack_without_blowing_up(self) -> None:
        name = "a" * 200
        self.assertFalse(Pattern("*a" * 30 + "b").matches(name))
        self.assertTrue(Pattern("*a" * 30).matches(name))

    def test_only_text_is_a_pattern(self) -> None:
        with self.assertRaises(TypeError):
            Pattern(b"db_*")  # type: ignore[arg-type]

    def test_text_forms(self) -> None:
        pattern = Pattern("db_*")
        self.assertEqual(
            (str(pattern), pattern.source, repr(pattern)), ("db_*", "db_*", "Pattern('db_*')")
        )
        self.assertEqual(pattern, Pattern("db_*"))
        self.assertNotEqual(Pattern("a*"), Pattern.exact("a*"))


if __name__ == "__main__":
    unittest.main()
