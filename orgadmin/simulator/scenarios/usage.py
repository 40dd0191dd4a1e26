"""The usage of a scenario: streams planned per key and persona, scaled to a daily bill."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from orgadmin.simulator.scenarios.base import HISTORY_DAYS, ScenarioBase
from orgadmin.simulator.store import ProjectApiKey
from orgadmin.simulator.usage.families import DAY, FAMILIES
from orgadmin.simulator.usage.prices import (
    EMBEDDING_PRICES,
    IMAGE_PRICES,
    MODERATION_MODELS,
    SPEECH_PRICES,
    TRANSCRIPTION_PRICES,
    line_items,
)

# One stream of a persona: (family, dimensions, daily leaf values, hour profile).
_Stream = tuple[str, dict[str, Any], dict[str, float], int]


@dataclass(frozen=True)
class _Plan:
    """A usage stream to create once the volumes are scaled."""

    family: str
    dims: dict[str, Any]
    leaves: dict[str, float]
    profile: int
    start: int
    end: int | None


COST_SHARES = {  # of today's bill, by usage family (vector storage comes on top)
    "completions": 0.76,
    "embeddings": 0.03,
    "images": 0.06,
    "audio_speeches": 0.02,
    "audio_transcriptions": 0.03,
    "web_search_calls": 0.05,
    "file_search_calls": 0.03,
    "code_interpreter_sessions": 0.02,
}
_FAMILY_PERSONA = {
    "completions": "chat",
    "embeddings": "rag",
    "file_search_calls": "rag",
    "moderations": "moderation",
    "images": "images",
    "audio_speeches": "voice",
    "audio_transcriptions": "voice",
    "web_search_calls": "search",
}


def _daily_costs(plans: list[_Plan]) -> dict[str, float]:
    """About what today costs per family at unit scale: leaves times their prices."""
    totals: dict[str, float] = {}
    for plan in plans:
        if plan.end is not None:
            continue  # stale streams cost nothing today
        fam = FAMILIES[plan.family]
        values = [plan.leaves.get(leaf, 0.0) for leaf in fam.leaves]
        for item in line_items(plan.family, plan.dims):
            cost = sum(values[i] for i in item.leaves) * item.pico_per_unit / 1e12
            totals[plan.family] = totals.get(plan.family, 0.0) + cost
    return totals


def _scales(plans: list[_Plan], daily_cost_today: float) -> dict[str, float]:
    """Per family, the factor that makes today's bill about `daily_cost_today`, split like a
    typical organization's (mostly tokens); moderations are free, so they follow completions."""
    costs = _daily_costs(plans)
    scales = {
        family: share * daily_cost_today / costs[family]
        for family, share in COST_SHARES.items()
        if costs.get(family)
    }
    requests = {
        family: sum(
            p.leaves.get("num_model_requests", 0.0)
            for p in plans
            if p.family == family and p.end is None
        )
        for family in ("completions", "moderations")
    }
    if requests["moderations"]:  # free: about one moderation call per three completions
        completions = requests["completions"] * scales.get("completions", 1.0)
        scales["moderations"] = 0.3 * completions / requests["moderations"]
    return scales


class Usage(ScenarioBase):
    """Usage streams for the keys and projects, and a few one-day spikes."""

    def usage(self) -> None:
        models = self.size.completion_models
        text = [m for m in models if "audio" not in m and "realtime" not in m]
        audio = [m for m in models if "audio" in m or "realtime" in m] or text
        plans = self._key_stream_plans(text, audio)
        self._cover_every_family(plans, text, audio)
        self._project_plans(plans)
        scales = _scales(plans, self.size.daily_cost_today)
        for plan in plans:
            fam = FAMILIES[plan.family]
            leaves = plan.leaves
            if not fam.gauge:
                leaves = {k: v * scales.get(plan.family, 1.0) for k, v in leaves.items()}
                count = fam.leaves[fam.count_leaf]
                leaves[count] = max(2.0, leaves.get(count, 0.0))
            self.store.usage.add_stream(
                plan.family, plan.dims, leaves, start=plan.start, end=plan.end, profile=plan.profile
            )
        self._spikes()

    def _key_stream_plans(self, text: list[str], audio: list[str]) -> list[_Plan]:
        """One or two personas per key that was ever used, at a heavy-tailed volume."""
        rng = self.rng
        plans: list[_Plan] = []
        for key, end in self.key_plans:
            if end == -1:
                continue
            volume = math.exp(rng.gauss(0, 1.1))  # heavy-tailed: a few keys dominate
            personas = [
                rng.choice(
                    ("chat", "chat", "batch", "rag", "images", "voice", "search", "moderation")
                )
            ]
            if rng.random() < 0.35:
                personas.append(rng.choice(("chat", "rag", "search", "moderation", "batch")))
            for persona in dict.fromkeys(personas):
                plans += self._key_plans(key, end, persona, volume, text, audio)
        return plans

    def _cover_every_family(self, plans: list[_Plan], text: list[str], audio: list[str]) -> None:
        """Every family has 13 months of history: the oldest busy key picks up what is missing."""
        old_keys = sorted(
            (k for k, e in self.key_plans if e is None and k.created_at < self.history_start),
            key=lambda k: k.created_at,
        )
        for family, persona in _FAMILY_PERSONA.items():
            covered = any(
                p.family == family
                and p.start <= self.history_start
                and (p.end is None or p.end > self.history_start + 60 * DAY)
                for p in plans
            )
            if old_keys and not covered:
                key = old_keys[len(plans) % len(old_keys)]
                found = self._key_plans(key, None, persona, 5.0, text, audio)
                plans += [p for p in found if p.family == family]

    def _project_plans(self, plans: list[_Plan]) -> None:
        """Vector storage and code interpreter sessions, which belong to a project."""
        rng = self.rng
        file_search_projects = {
            p.dims["project_id"] for p in plans if p.family == "file_search_calls"
        }
        for project in self.store.projects.values():
            start = max(project.created_at, self.history_start - 30 * DAY)
            if project.id in file_search_projects or project.is_default or rng.random() < 0.25:
                mib = rng.choice((150, 800, 2500, 9000, 30000))
                plans.append(
                    _Plan(
                        "vector_stores",
                        {"project_id": project.id},
                        {"usage_bytes": mib},
                        0,
                        start,
                        project.archived_at,
                    )
                )
            if project.is_default or rng.random() < 0.35:
                sessions = rng.choice((3, 12, 40))
                plans.append(
                    _Plan(
                        "code_interpreter_sessions",
                        {"project_id": project.id},
                        {"num_sessions": sessions},
                        0,
                        start,
                        project.archived_at,
                    )
                )

    def _spikes(self) -> None:
        """A few one-day spikes on busy keys."""
        engine, rng = self.store.usage, self.rng
        busy = [k for k, e in self.key_plans if e is None]
        for _ in range(5 if self.store.scenario == "demo" else 12):
            day = (self.anchor - self.between(10 * DAY, HISTORY_DAYS * DAY)) // DAY
            if busy:
                engine.spikes[(day, rng.choice(busy).id)] = rng.uniform(4.0, 9.0)

    def _key_plans(
        self,
        key: ProjectApiKey,
        end: int | None,
        persona: str,
        volume: float,
        text: list[str],
        audio: list[str],
    ) -> list[_Plan]:
        user_id = key.owner_id if key.owner_type == "user" else None
        base = {"project_id": key.project_id, "user_id": user_id, "api_key_id": key.id}
        return [
            _Plan(
                family,
                {**base, **dims},
                {k: v * volume for k, v in leaves.items()},
                profile,
                key.created_at,
                end,
            )
            for family, dims, leaves, profile in self._persona(persona, text, audio)
        ]

    def _persona(
        self, persona: str, text_models: list[str], audio_models: list[str]
    ) -> list[_Stream]:
        """The streams of one persona: (family, dimensions, daily leaves, profile)."""
        steps = {
            "chat": self._chat,
            "batch": self._batch,
            "rag": self._rag,
            "images": self._images,
            "voice": self._voice,
            "search": self._search,
            "moderation": self._moderation,
        }
        out: list[_Stream] = []
        step = steps.get(persona)
        if step is not None:
            step(out, text_models, audio_models)
        return out

    def _completion(
        self,
        out: list[_Stream],
        model: str,
        *,
        batch: bool = False,
        tier: str = "default",
        requests: float = 400.0,
        audio: bool = False,
        images: bool = False,
    ) -> None:
        rng = self.rng
        inp = rng.uniform(600, 4000)
        cached = rng.uniform(0.1, 0.6) if not batch else rng.uniform(0.0, 0.2)
        leaves = {
            "num_model_requests": requests,
            "input_text_tokens": requests * inp * (1 - cached) * 0.9,
            "input_cached_text_tokens": requests * inp * cached,
            "input_cache_write_tokens": requests * inp * 0.05,
            "output_text_tokens": requests * rng.uniform(150, 900),
        }
        if audio:
            leaves |= {
                "input_audio_tokens": requests * rng.uniform(200, 900),
                "input_cached_audio_tokens": requests * rng.uniform(0, 120),
                "output_audio_tokens": requests * rng.uniform(200, 700),
            }
        if images or rng.random() < 0.15:
            leaves |= {
                "input_image_tokens": requests * rng.uniform(50, 800),
                "input_cached_image_tokens": requests * rng.uniform(0, 60),
            }
            if rng.random() < 0.1:
                leaves["output_image_tokens"] = requests * rng.uniform(20, 200)
        out.append(
            (
                "completions",
                {"model": model, "batch": batch, "service_tier": tier},
                leaves,
                1 if batch else 0,
            )
        )

    def _chat(self, out: list[_Stream], text_models: list[str], audio_models: list[str]) -> None:
        rng = self.rng
        for model in rng.sample(text_models, min(len(text_models), rng.randint(1, 3))):
            tier = rng.choices(("default", "flex", "priority"), (8, 1, 1))[0]
            self._completion(out, model, tier=tier, requests=rng.uniform(200, 1500))

    def _batch(self, out: list[_Stream], text_models: list[str], audio_models: list[str]) -> None:
        rng = self.rng
        self._completion(out, rng.choice(text_models), batch=True, requests=rng.uniform(500, 5000))
        if rng.random() < 0.5:
            self._completion(
                out, rng.choice(text_models), tier="flex", requests=rng.uniform(100, 600)
            )

    def _rag(self, out: list[_Stream], text_models: list[str], audio_models: list[str]) -> None:
        rng = self.rng
        self._completion(out, rng.choice(text_models), requests=rng.uniform(200, 900), images=False)
        embed = rng.choice(list(EMBEDDING_PRICES)[:2])
        out.append(
            (
                "embeddings",
                {"model": embed},
                {
                    "num_model_requests": rng.uniform(300, 3000),
                    "input_tokens": rng.uniform(3e5, 6e6),
                },
                1,
            )
        )
        out.append(
            (
                "file_search_calls",
                {"vector_store_id": self.id("vs_")},
                {"num_requests": rng.uniform(50, 600)},
                0,
            )
        )

    def _images(self, out: list[_Stream], text_models: list[str], audio_models: list[str]) -> None:
        rng = self.rng
        model = rng.choice(("gpt-image-1", "dall-e-3"))
        for size in rng.sample(sorted(IMAGE_PRICES[model]), 2):
            source = rng.choice(("image.generation", "image.generation", "image.edit"))
            requests = rng.uniform(20, 200)
            out.append(
                (
                    "images",
                    {"model": model, "size": size, "source": source},
                    {
                        "num_model_requests": requests,
                        "images": requests * rng.uniform(1.0, 2.5),
                    },
                    0,
                )
            )
        if rng.random() < 0.3:
            out.append(
                (
                    "images",
                    {"model": "dall-e-2", "size": "512x512", "source": "image.variation"},
                    {"num_model_requests": 15.0, "images": 40.0},
                    0,
                )
            )

    def _voice(self, out: list[_Stream], text_models: list[str], audio_models: list[str]) -> None:
        rng = self.rng
        self._completion(out, rng.choice(audio_models), requests=rng.uniform(100, 600), audio=True)
        tts = rng.choice(list(SPEECH_PRICES)[: 3 if self.store.scenario == "large" else 2])
        out.append(
            (
                "audio_speeches",
                {"model": tts},
                {
                    "num_model_requests": (r := rng.uniform(100, 800)),
                    "characters": r * rng.uniform(150, 700),
                },
                0,
            )
        )
        stt = rng.choice(list(TRANSCRIPTION_PRICES))
        out.append(
            (
                "audio_transcriptions",
                {"model": stt},
                {
                    "num_model_requests": (r := rng.uniform(50, 500)),
                    "seconds": r * rng.uniform(20, 240),
                },
                0,
            )
        )

    def _search(self, out: list[_Stream], text_models: list[str], audio_models: list[str]) -> None:
        rng = self.rng
        model = rng.choice(text_models[:4])
        self._completion(out, model, requests=rng.uniform(100, 500))
        for level in rng.sample(("low", "medium", "high"), rng.randint(1, 2)):
            calls = rng.uniform(30, 400)
            out.append(
                (
                    "web_search_calls",
                    {"model": model, "context_level": level},
                    {
                        "num_model_requests": calls,
                        "num_requests": calls * rng.uniform(1.0, 1.6),
                    },
                    0,
                )
            )

    def _moderation(
        self, out: list[_Stream], text_models: list[str], audio_models: list[str]
    ) -> None:
        rng = self.rng
        model = MODERATION_MODELS[0] if rng.random() < 0.8 else MODERATION_MODELS[1]
        out.append(
            (
                "moderations",
                {"model": model},
                {
                    "num_model_requests": (r := rng.uniform(500, 8000)),
                    "input_tokens": r * rng.uniform(80, 400),
                },
                0,
            )
        )
