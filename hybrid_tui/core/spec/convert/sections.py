"""What a heading (or a label line) says its section is: context, steps, verification, files,
reference-only, out of scope, done. The regexes here hold the English wordings (and some
others); `heading_words` holds the table of heading words per language (en, zh, ja, ko, de, fr,
es, pt, it, ru, vi), which decides what they leave open.

Behaviour choices:
- Headings are compared after `normalize_heading`: lower case, markdown decoration and emoji
  removed, a leading `1.` / `a)` numbering removed.
- A verification heading is a noun from the list alone or with a short qualifier ("Testing &
  verification (frontend)"), a bare verb ("Verify"), or a CJK/Korean heading starting with one
  of the words; acceptance criteria / definition of done / completion criteria sections also
  hold checks (`is_criteria_heading`) and feed the spec's verification.
- A guidance heading (`is_guidance_heading`) names what a worker must keep in mind beyond the
  steps: constraints, rules, requirements, out of scope, edge cases, acceptance criteria, notes,
  architecture, design, risks. Up to two qualifier words may come first ("Non-functional
  requirements", "Critical design principles"); alternatives, rollback, open questions and
  future work are not guidance.
"""

from __future__ import annotations

import re

from hybrid_tui.core.spec.convert.heading_words import heading_role

_NUMBERING = re.compile(r"^(?:\d+(?:[.\-]\d+)*[.):]?|[a-z][.)])\s+")
_DECORATION = re.compile(r"[*_`~]|[\u2600-\u27bf\U0001f000-\U0001faff\ufe0f]")

_CONTEXT_WORDS = [
    # best first
    ("context", "background", "contexto", "contexte", "背景", "需求背景", "배경"),
    (
        "problem",
        "problem statement",
        "problem summary",
        "the problem",
        "current problem",
        "problème",
        "probleme",
        "problema",
        "问题",
        "問題",
        "문제",
        "vấn đề",
    ),
    (
        "goal",
        "goals",
        "objective",
        "objectif",
        "objetivo",
        "目的",
        "目标",
        "목표",
        "mục tiêu",
        "motivation",
        "why",
    ),
    (
        "overview",
        "summary",
        "feature overview",
        "executive summary",
        "概要",
        "概述",
        "개요",
        "프로젝트 개요",
        "tổng quan",
        "resumen",
        "résumé",
    ),
]
_STEPS_SECTION = re.compile(
    r"^(?:(?:[\w/&+-]+[\s-]+){0,2}(?:changes|steps|tasks|phases|edits|milestones)\b"
    r"|implementation(?!\s+(?:order|notes?|details?|status|summary|strategy|checklist))\b"
    r"|plan$|the plan$|roadmap|work items|to ?do|fix$|fixes$|proposed fix"
    r"|tâches|taches|étapes|etapes|pasos|tareas|fases|m[oó]dulos|schritte|aufgaben"
    r"|các bước|công việc|nhiệm vụ|실행|구현|작업|단계"
    r"|実装|作業内容|手順|タスク|实施步骤|实现步骤|实施|步骤|任务|实现方案)"
)
# A verification heading is a noun from this list, alone or with a short qualifier
# ("Testing & verification (frontend)", "Validation checklist"), or a bare verb ("Verify").
_VERIFY_NOUNS = (
    r"(?:(?:method|méthode|methode|método|metodo|how) (?:de |of |to )?)?(?:verification|vérification"
    r"|verificación|validation)|lint|linting|type ?check(?:ing)?|static analysis"
    r"|verification|validation|testing|tests|test|test plan|test strategy|test commands"
    r"|quality checks|checks|smoke tests?|manual (?:testing|verification)|how to (?:verify|test)"
    r"|vérification|verificación|verificacion|verificação|pruebas|prüfung|kiểm tra|kiểm thử"
    r"|xác minh"
)
_VERIFY_SECTION = re.compile(
    rf"^(?:(?:{_VERIFY_NOUNS})(?:\s*(?:[(:&/,].*|and .*|(?:[\w-]+\s*){{0,3}}))?"
    r"|(?:verify|validate|test|check)(?:\s*[(:].*)?)$"
    r"|^(?:검증|테스트|検証|テスト|動作確認|验证|测试|驗證|測試)"
)
_STEP_WORDS = (
    r"step|phase|task|stage|story|milestone|part|wave|sprint|iteration|pass"
    r"|étape|etape|tâche|tache|paso|fase|tarea|schritt|bước|giai đoạn"
    r"|ステップ|フェーズ|段階|阶段|步骤|단계"
)
_STEP_HEADING = re.compile(
    rf"^(?:{_STEP_WORDS})\s*(?:\d+(?:\.\d+)*(?!\d)|[ivx]+(?![\w]))", re.IGNORECASE
)
STEP_PREFIX = re.compile(
    rf"^(?:{_STEP_WORDS})\s*(?:\d+(?:\.\d+)*|[ivx]+)\s*[:.)\-—–：、．）]*\s*", re.IGNORECASE
)
NUMBERED_HEADING = re.compile(r"^\d+(?:\.\d+)*[.)]?\s+\S")


def normalize_heading(text: str) -> str:
    """Lower case, no markdown decoration or emoji, no leading `1.` numbering."""
    text = _DECORATION.sub("", text).strip().lower()
    text = _NUMBERING.sub("", text)
    return " ".join(text.split())


def context_rank(heading: str) -> int | None:
    """Priority of a context heading (0 is best), None when it is not one."""
    norm = normalize_heading(heading)
    for rank, words in enumerate(_CONTEXT_WORDS):
        for word in words:
            if norm == word or norm.startswith((word + " ", word + ":")):
                return rank
            if not word.isascii() and norm.startswith(word):
                return rank
    return None


# order lists: steps only when no other step section exists (else they repeat the steps)
_ORDER_SECTION = re.compile(
    r"^(?:(?:implementation|execution|build|recommended|suggested|work) order|order of work"
    r"|orden de desarrollo|ordre|実装順序|实施顺序)"
)
_NOT_STEPS = re.compile(
    r"^(?:next|future|follow-?up|optional|out of scope|non-goals|open)\b"
)


def is_order_heading(heading: str) -> bool:
    return bool(_ORDER_SECTION.match(normalize_heading(heading)))


def is_steps_heading(heading: str) -> bool:
    norm = normalize_heading(heading)
    return (
        bool(_STEPS_SECTION.match(norm))
        and not _ORDER_SECTION.match(norm)
        and not _NOT_STEPS.match(norm)
        and not _EXCLUDED_SECTION.match(norm)  # "No changes needed in:" lists no steps
        and not is_verification_heading(heading)
    ) or (
        heading_role(norm) == "changes" and not _FILE_HEAD.match(norm) and not is_verification_heading(heading)
    )


_FILE_HEAD = re.compile(r"^(?:[\w.-]+/)*[\w-][\w.-]*\.\w{1,8}(?:\s|$)")
"""A heading that starts with a file's path (`tests/test_cli.py (new)`) names that file."""


def is_verification_heading(heading: str) -> bool:
    norm = normalize_heading(STEP_PREFIX.sub("", heading.strip()))
    return (bool(_VERIFY_SECTION.match(norm) or heading_role(norm) == "verify")
            and not _FILE_HEAD.match(norm) and not _BUILDS_TOOLING.search(norm))


_BUILDS_TOOLING = re.compile(r"\b(?:setup|set up|config|configuration|infrastructure|tooling|harness|fixtures?|migration)\b")
""""Lint setup", "Test harness": work that builds the checks, not checks to run."""


def is_step_heading(heading: str) -> bool:
    return bool(_STEP_HEADING.match(_DECORATION.sub("", heading).strip()))


# --------------------------------------------------------------------------------------------
# Sections whose file mentions are not changes of this plan, and file-list sections

_DONE_HEADING = re.compile(
    r"✅|✔|☑|\bDONE\b|\bCOMPLETED?\b|\bIMPLEMENTED\b|\(done\)|完了|完成|완료|已完成|已实现"
)
_READ_SECTION = re.compile(
    r"^(?:what (?:already )?exists|existing\b|reuse|reused|already\b|references?\b|resources\b"
    r"|related\b|see also|further reading|prior art|current (?:state|setup|code|implementation"
    r"|structure|problem|architecture)|ground truth|verified\b|files? to (?:verify|read|check)"
    r"|key files? to read|appendix\b.*\b(?:reference|related|documentation)"
    r"|.*\b(?:today|as[- ]is)$|upstream\b|original (?:structure|layout|code)|参考|参照|參考|참고|関連|相关|현재|現状|现状)"
)
_EXCLUDED_SECTION = re.compile(
    r"^(?:out of scope|not in scope|non-?goals?|what (?:this|it) (?:plan )?(?:does not|doesn't"
    r"|will not|won't)|what not to|forbidden|do not (?:change|touch|modify)|unchanged|no changes?"
    r"|hors (?:du )?périmètre|fuera de alcance|範囲外|スコープ外|不在范围|范围外|범위 밖|defer\w*)"
)
_IGNORED_SECTION = re.compile(
    r"^(?:rollback|roll back|complete rollback|undo|revert\b|troubleshoot\w*|alternatives?\b"
    r"|options? considered|rejected\b|risks?\b|open questions?|next steps?|future (?:work|phases?"
    r"|considerations?|enhancements?|ideas?)|follow-?ups?|backlog|timeline|time (?:summary"
    r"|estimate)|lessons learned|agent process|リスク|风险|위험|今後|后续|후속)"
)
_CRITERIA_SECTION = re.compile(
    r"^(?:acceptance(?: criteria| tests?)?|definition of done|success (?:criteria|metrics)"
    r"|done when|(?:.* )?complete when|completion (?:criteria|conditions)|stop criteri\w*"
    r"|exit criteria|validation checklist|quality (?:checks|gates)|post-implementation checklist"
    r"|critères|criterios|完了条件|受け入れ|验收|完成条件|인수|완료 조건)"
)
_FILES_SECTION = re.compile(
    r"^(?:(?:key |relevant |changed |modified |affected |new |critical |touched )?files?\b"
    r"|file (?:map|list|structure|organi[sz]ation|changes|inventory|plan)|files? (?:to|affected"
    r"|changed|created|modified|touched)|changed files|(?:project|directory|folder|repo(?:sitory)?)"
    r" (?:structure|layout)|structure\b|layout\b|改动范围|变更范围|关键文件|文件|変更ファイル"
    r"|ファイル|파일|fichiers?|archivos?|edits\b)"
)


def is_done_heading(heading: str) -> bool:
    if _PARTLY.search(heading):
        return False  # "✅ (已有基础)", "✅ partially": started, not finished
    return bool(_DONE_HEADING.search(heading)) or heading_role(
        normalize_heading(STEP_PREFIX.sub("", heading.strip()))) == "done"


_PARTLY = re.compile(
    r"\b(?:partial\w*|partly|in progress|wip|ongoing|basis|foundation|teilweise|partiel\w*|parcial\w*"
    r"|parziale|частично)\b|部分|基础|已有基础|进行中|進行中|一部|진행 ?중|일부",
    re.IGNORECASE,
)


def section_kind(heading: str) -> str | None:
    """ "done", "read", "exclude", "ignore", "criteria", "files", "verify", "context" or None."""
    norm = normalize_heading(STEP_PREFIX.sub("", heading.strip()))
    if _CRITERIA_SECTION.match(norm):
        return "criteria"
    if is_done_heading(heading):
        return "done"
    if is_step_heading(heading):
        return None  # a step is a step, whatever its title says
    if _EXCLUDED_SECTION.match(norm):
        return "exclude"
    if _READ_SECTION.match(norm):
        return "read"
    if _IGNORED_SECTION.match(norm):
        return "ignore"
    if _CRITERIA_SECTION.match(norm):
        return "criteria"
    if _FILES_SECTION.match(norm):
        return "files"
    if is_verification_heading(heading):
        return "verify"
    if context_rank(heading) is not None:
        return "context"
    return _TABLE_KINDS.get(heading_role(norm) or "")


# the roles of `heading_words` as section kinds ("changes" is `is_steps_heading`'s)
_TABLE_KINDS = {"files": "files", "tree": "files", "exclude": "exclude", "no change": "exclude", "read": "read"}


def is_criteria_heading(heading: str) -> bool:
    """Acceptance criteria / definition of done / completion criteria (完了条件...)."""
    return bool(
        _CRITERIA_SECTION.match(normalize_heading(STEP_PREFIX.sub("", heading.strip())))
    )


# --------------------------------------------------------------------------------------------
# Guidance sections: carried into the spec's Context (see `guidance`)

_GUIDANCE_WORDS = (
    r"non-?negotiables?|constraints?|restrictions?|rules|requirements?|invariants?|guardrails?"
    r"|principles|guidelines|conventions|caveats|gotchas|pitfalls|edge[ -]cases?"
    r"|corner[ -]cases?|notes?|architecture|architectural|design|risks?|decisions?|considerations"
    r"|assumptions|guidance|out of scope|not in scope|non-?goals?|do not|don'?t"
    r"|décisions|hypothèses|decisiones|supuestos|entscheidungen|annahmen|quyết định|giả định"
    r"|contraintes|règles|exigences|cas limites?|remarques|conception|risques"
    r"|restricciones|reglas|requisitos|casos (?:límite|limite|borde)|notas|arquitectura|diseño"
    r"|riesgos|einschränkungen|randbedingungen|regeln|anforderungen|randfälle|grenzfälle"
    r"|hinweise|anmerkungen|architektur|entwurf|risiken|ràng buộc|quy tắc|yêu cầu"
    r"|trường hợp biên|ghi chú|lưu ý|kiến trúc|thiết kế|rủi ro"
)
_GUIDANCE_SECTION = re.compile(
    rf"^(?:[\w/&+'-]+\s+){{0,2}}(?:{_GUIDANCE_WORDS})(?![\w-])"
    r"|^.{0,8}?(?:制約|制约|约束|제약|ルール|规则|규칙|要件|需求|要求|요구사항|エッジケース|境界|边界"
    r"|엣지|注意|备注|주의|アーキテクチャ|架构|아키텍처|設計|设计|설계|リスク|风险|위험|非目标|ガイダンス"
    r"|方針|前提|决策|假设|결정|가정)"
)
# acceptance-criteria-like sections (not the check lists `_CRITERIA_SECTION` also holds)
_GUIDANCE_CRITERIA = re.compile(
    r"^(?:acceptance|definition of done|success (?:criteria|metrics)|done when|(?:.* )?complete"
    r" when|completion (?:criteria|conditions)|stop criteri|exit criteria|quand c'est (?:fini"
    r"|terminé)|critères|criterios|完了条件|受け入れ|验收|完成条件|인수|완료 조건)"
)
# weighed and dropped, or later: not guidance for this work
_NOT_GUIDANCE = re.compile(
    r"^(?:alternatives?|options? considered|rejected|rollback|roll back|complete rollback|undo"
    r"|troubleshoot|open questions?|next steps?|future|follow-?ups?|backlog|timeline"
    r"|time (?:summary|estimate)|lessons learned)"
)


def is_guidance_heading(heading: str) -> bool:
    """Constraints, rules, requirements, out of scope, edge cases, acceptance criteria, notes,
    architecture, design, decisions, assumptions, risks (and their translations), or an
    out-of-scope heading in any wording `section_kind` knows. Alternatives, rollback, open
    questions and future work are not guidance."""
    norm = normalize_heading(heading)
    if _NOT_GUIDANCE.match(norm):
        return False
    return bool(
        _GUIDANCE_SECTION.match(norm)
        or _EXCLUDED_SECTION.match(norm)
        or _GUIDANCE_CRITERIA.match(norm)
    )
