"""What the words around a file mention say: create, delete, only read, not change, done.

Behaviour choices:
- CREATE / DELETE come from a verb right before the path (at most three other words between:
  "add a smoke test `x`"), a `(new)` / `— new file` / `(delete)` right after it, or the label
  line above its list (`**Files to create:**`). Words in other languages count too (新規, 新增,
  作成, 생성, nuevo, nouveau, erstellen, criar, creare, создать; 削除, 删除, 삭제, supprimer,
  eliminar, löschen, remover, rimuovere, удалить).
- A mention is *excluded* (the plan says the file does not change) by words right after it
  ("— no change", "(unchanged)", "(verify only", "reference only", "を変更しない", "不修改") or
  right before it ("do not modify `x`", "without touching `x`"), or by a strike-through.
  An exclusion anywhere wins over every other mention of the same path.
- A mention is *read* (weak: it does not list the file, but another mention still can) when
  the clause before it says the file is a pattern, a reference or something to consult
  ("follow the pattern from `x`", "mirror `x`", "see `x`", "copy the harness from `x`",
  "Check `x`"), unless a change verb comes first in that clause.
- A line is *done* when it carries a ticked box (`[x]`) or a done mark (✅, ✔, DONE,
  COMPLETED, 完了, 完成, 완료): its paths are finished work. A done mark anywhere wins too.
"""

from __future__ import annotations

import re

from hybrid_tui.core.spec.convert.heading_words import heading_role
from hybrid_tui.core.spec.convert.paths import CODE_SPAN, Mention

_V_CREATE = (
    r"create|add|new|write|scaffold|introduce|generate|created|added|creates|adds|writes"
    r"|crear|créer|creer|ajouter|añadir|agregar|nuevo|nueva|nouveau|nouvelle|tạo|thêm"
    r"|erstellen|anlegen|hinzufügen|neue|neuer|neues|criar|adicionar|novo|nova|creare|aggiungere"
    r"|nuovo|nuova|создать|создайте|добавить|добавьте|новый|новая|новое"
)
_V_DELETE = (
    r"delete|remove|rm|git rm|drop|deleted|removed|supprimer|eliminar|borrar|xóa"
    r"|löschen|entfernen|remover|excluir|apagar|eliminare|rimuovere|cancellare|удалить|удалите"
)
_GAP = r"[\s*_:—–-]+"
_NOT_PREP = (r"(?!(?:in|into|to|from|of|on|for|with|inside|within|by|and|or|at|as"
             r"|à|au|aux|dans|vers|al|en|zu|zum|zur|im|ao|em|no|na|nel|nella|в|во|к|vào)(?![\w-]))")
# the verb right before the path, at most two other words between ("add a smoke test `x`")
_CREATE_BEFORE = re.compile(
    rf"(?:\b(?:{_V_CREATE})\b(?:{_GAP}{_NOT_PREP}[\w-]+){{0,3}}(?:{_GAP}(?:at|called|named|as))?"
    rf"{_GAP}|(?:新規作成|新規ファイル|新規|新文件|新增|新建|创建|作成|생성|추가|새 파일)\s*[:：]?\s*"
    r"|\bnew file\s*:\s*)$",
    re.IGNORECASE,
)
_DELETE_BEFORE = re.compile(
    rf"(?:\b(?:{_V_DELETE})\b(?:{_GAP}(?:the|this|old|obsolete|unused|legacy|stale|dead|file"
    rf"|module|script))*{_GAP}|(?:删除|削除|삭제)\s*[:：]?\s*)$",
    re.IGNORECASE,
)
_CREATE_AFTER = re.compile(
    r"^\s*(?:[(\[（][*_]*(?i:new|create|created|added|新規作成|新規|新增|新建|생성)"
    r"(?i:\s+file)?[*_]*\s*[)\];,:）]"
    r"|(?:—|–|-|:)\s*[*_]*(?:NEW|CREATE|[Nn]ew file|[Cc]reated?|[Nn]ew\s+(?:\w+\s+)?(?:file|component"
    r"|module|script|class|page|hook|service|package|crate|helper|screen|view|migration|document"
    r"|workflow|test file))\b"
    r"|\s*(?:を)?(?:新規作成|新規|新增|新建|作成))"
)
_DELETE_AFTER = re.compile(
    r"^\s*(?:[(\[][*_]*(?:delete|deleted|remove|removed|rm)[*_]*\s*[)\];,:]"
    r"|(?:—|–|-|:)\s*[*_]*(?:delete|deleted|remove|removed)(?:\s+(?:it|this file|the file|"
    r"entirely))?[*_]*\s*(?:$|[.;,)]))",
    re.IGNORECASE,
)

# --------------------------------------------------------------------------------------------
# Exclusions, reading, done

_NO_CHANGE_AFTER = re.compile(
    r"^[\s*_`'\")\]]*(?:[(\[（,:—–-]|\s)*\s*(?:[*_]*)"
    r"(?:no (?:code |functional )?changes?\b|unchanged|not changed|untouched|stays? (?:as[- ]is|the same|unchanged)"
    r"|keep (?:as[- ]is|unchanged)|verify only\b|verify,|(?<=\()verify\b|verification only|read[- ]only"
    r"|reference only|(?:do not|don't) (?:modify|change|touch|edit)(?:\s+(?:it|this(?: file)?|the file))?[*_]*\s*(?:[.;,)]|$)"
    r"|must not change|should not (?:need )?change|(?:likely |probably )?no changes? (?:needed|required)"
    r"|existing(?![^)]*\+)\s*(?:[,)\-—–]|$)|sin cambios|inchangé|không (?:thay đổi|sửa)|unverändert|keine änderung\w*|nicht ändern|sem alteraç\w+|inalterad[oa]|não alterar|invariat[oa]|nessuna modifica|non modificare|без изменений|не изменять|не менять|không đổi|giữ nguyên|aucun changement|aucune modification|ne pas modifier|sin modificaciones|no modificar|変更なし|変更不要|无需修改|不需要修改|保持不变|无变更|변경 없음|변경없음|수정 없음"
    r"|(?:は|を)?(?:変更しない|変更なし|変更不要|修正不要)|不(?:修改|变|需修改)|无需修改|변경 ?없|수정하지)",
    re.IGNORECASE,
)
_NO_CHANGE_BEFORE = re.compile(
    r"(?:\b(?:do not|don't|never|must not|should not|shall not|without)\s+(?:\w+\s+){0,2}"
    r"(?:modify|modifying|change|changing|touch|touching|edit|editing|remove|removing|rename)"
    r"|\bno changes? (?:to|in)|\bleave\b|\bkeep\b(?:\s+\w+){0,2}\s+(?:in place|as[- ]is)"
    r"|\bforbid\w*|\bne pas modifier|\bno modificar|\bunchanged|\bunchanged from|\bno"
    r"|不动|不改|勿改|不要修改|不修改|不要改|変更しない|触らない|건드리지|nicht ändern|não alterar|non modificare"
    r"|сохранить|оставить|garder|conserver|conservar|manter|behalten|mantenere|giữ lại|保留|维持|維持|유지"
    r"|не (?:трогать|менять|изменять)|không (?:sửa|đổi|động))\W*$",
    re.IGNORECASE,
)
_READ_WORDS = re.compile(
    r"\b(?:pattern|patterns|follow(?:s|ing)?|mirror(?:s|ed|ing)?|modell?ed on|based on|per|see"
    r"|cf|like|as in|reuse[sd]?|reusing|read(?:s|ing)?(?!\s+in\b)|consult|inspect|look at|check"
    r"|verify|confirm|compare|match(?:es|ing)?|template|cop(?:y|ies|ying|ied)|duplicat\w*|via"
    r"|extract(?:ed|ing)?(?:\s+\S+){0,3}\s+from|import(?:s|ed|ing)?(?:\s+\S+){0,3}\s+from"
    r"|uses?|using|referenced?|referencing|defined in|lives? in|exists? in|found in"
    r"|used (?:by|in)|called (?:by|from)|imported (?:by|in)|referenced by|utilisée? (?:par|dans)"
    r"|usad[oa] (?:por|en|em)|verwendet (?:von|in)|utilizzat[oa] (?:da|in)|используется в"
    r"|siguiendo|según|véase|suivant|selon|voir|comme dans|d'après|gemäß|siehe|wie in|nach vorbild"
    r"|seguindo|conforme|veja|seguendo|secondo|vedi|согласно|как в|по образцу|theo|xem|giống như"
    r"|source of truth|(?:helper|function|class|hook|harness|style|component|code) from"
    r"|参照|参考|参见|確認|确认|참고|참조)\b(?:\W+\w+){0,5}\W*$",
    re.IGNORECASE,
)
_READ_ANYWHERE = re.compile(
    r"\b(?:pattern|follow|mirror|reference|see|like|as in|reuse|consult|inspect|copy|template"
    r"|existing|current(?:ly)?)\b",
    re.IGNORECASE,
)
_COMPARE = re.compile(
    r"\b(?:identical to|same as|similar to|equivalent to|consistent with|instead of|rather than"
    r"|as in|like)\W*$",
    re.IGNORECASE,
)
_DESTINATION = re.compile(r"\b(?:to|into|as|→|->)\W*$", re.IGNORECASE)
_READ_AFTER = re.compile(r"^\W{0,3}(?:を|の)?(?:参照|参考|確認|确认)")
_CHANGE_VERBS = re.compile(
    r"\b(?:add|adds|create|update|modify|change|edit|extend|move|replace|insert|append|refactor"
    r"|fix|rewrite|wire|remove|delete|rename|implement|write)\b",
    re.IGNORECASE,
)
_CLAUSE_BREAK = re.compile(r"[,.;!?。；、，|(]\s|[;|]|\s[—–]\s|\s-\s")
_DONE_MARK = re.compile(
    r"\[[xX]\]|✅|✔|☑|\bDONE\b|\bCOMPLETED\b|\((?:done|completed)\)"
)
_DONE_WORDS = re.compile(r"✅|✔|☑|\bDONE\b|\bCOMPLETED?\b|完了|完成|완료|已完成|已实现")
_STRIKE = re.compile(r"~~.+?~~")


def _clause(before: str) -> str:
    """The text of the clause the mention sits in, up to the mention; code spans become `X`."""
    text = CODE_SPAN.sub("X", before)
    cuts = [m.end() for m in _CLAUSE_BREAK.finditer(text)]
    return text[cuts[-1] :] if cuts else text


# verbs after the path (German word order, Japanese / Korean particles): "`x` löschen", "`x` を削除"
_DELETE_VERB_AFTER = re.compile(r"^(?:\s+(?:löschen|entfernen)\b|\s*(?:を|는|을|를)?\s*(?:削除|삭제|删除))", re.IGNORECASE)
_CREATE_VERB_AFTER = re.compile(r"^(?:\s+(?:erstellen|anlegen|neu anlegen|hinzufügen)\b|\s*(?:을|를)?\s*(?:생성|신규))", re.IGNORECASE)


def stated_action(mention: Mention, label: str | None = None) -> str | None:
    """The action the words say ("CREATE" / "DELETE"), else `label`'s (when it is an action)."""
    before = CODE_SPAN.sub("X", mention.before[-160:])
    if _DELETE_BEFORE.search(before) or _DELETE_AFTER.match(mention.after) or _DELETE_VERB_AFTER.match(mention.after):
        return "DELETE"
    if _CREATE_BEFORE.search(before) or _CREATE_AFTER.match(mention.after) or _CREATE_VERB_AFTER.match(mention.after):
        return "CREATE"
    return label if label in ("CREATE", "DELETE", "MODIFY") else None


_V_MODIFY = (
    r"update|modify|change|edit|extend|refactor|fix|rewrite|wire|adjust|replace|rename|move|implement"
    r"|updated|modified|changed|edited|extended|refactored|fixed|rewritten|implemented"
    r"|actualizar|modificar|cambiar|editar|mettre à jour|modifier|changer|ändern|aktualisieren|anpassen"
    r"|bearbeiten|erweitern|atualizar|alterar|aggiornare|modificare|изменить|обновить|доработать"
    r"|cập nhật|sửa|chỉnh sửa"
)
_CHANGE_BEFORE = re.compile(
    rf"(?:\b(?:{_V_MODIFY}|{_V_CREATE}|{_V_DELETE})\b|修改|更新|变更|改为|変更|修正|追加|改修|수정|변경|업데이트)",
    re.IGNORECASE,
)


def says_change(mention: Mention) -> bool:
    """The clause before the mention has a change verb ("Update `a.py`", "在 `a.py` 中修改"), or
    one follows it right away ("`a.py` を修正")."""
    if _CHANGE_BEFORE.search(_clause(mention.before[-200:])):
        return True
    return bool(_CHANGE_BEFORE.match(CODE_SPAN.sub("X", mention.after[:12]).lstrip(" をに中的で:：-—")))


def excluded(mention: Mention, line: str) -> bool:
    """The words say this file does not change (or the mention is struck through)."""
    if _NO_CHANGE_AFTER.match(mention.after[:80]):
        return True
    if _NO_CHANGE_BEFORE.search(CODE_SPAN.sub("X", mention.before[-80:])):
        return True
    if "~~" in line:
        start = len(mention.before)
        return any(m.start() <= start < m.end() for m in _STRIKE.finditer(line))
    return False


_READ_LABEL = re.compile(
    r"(?:^|[^\w])(?:(?:examples?|samples?|expected|test|build|generated)\s+)?(?:examples?|samples?|input|inputs"
    r"|output|outputs|source|sources|reference|references|from|输入|输出|示例|样例|例|参考|入力|出力|입력|출력|예시"
    r"|예제|beispiel|eingabe|ausgabe|quelle|exemple|entrée|sortie|ejemplo|entrada|salida|fuente|exemplo|saída"
    r"|fonte|esempio|uscita|пример|вход|выход|источник|ví dụ|đầu vào|đầu ra|nguồn)\s*[:：]\s*$",
    re.IGNORECASE,
)


_OTHER_REPO = re.compile(
    r"\b(?:upstream(?:'s)?|(?:an)?other|sibling|external|their|third[- ]party|vendored)\s+(?:[\w-]+\s+)?"
    r"(?:repo|repos|repository|repositories|project|codebase|package|crate|library|fork)\b|github\.com/"
    r"|上游|上流|업스트림|別リポジトリ|其他仓库|另一个仓库|다른 저장소",
    re.IGNORECASE,
)
_OTHER_REPO_AFTER = re.compile(
    r"^\W{0,3}\s*(?:in|from|of)\s+(?:the\s+)?(?:upstream|other|another|sibling|external|their)\b", re.IGNORECASE
)


def only_read(mention: Mention) -> bool:
    """The clause before the mention says the file is consulted, not changed: a reading word
    ("follow the pattern in"), a comparison, or a label of an example, an input or output, a
    source or reference ("Example input:", "出力:"). A `path:line` reference in a clause with
    a reading word anywhere is read too."""
    if _READ_AFTER.match(mention.after):
        return True
    clause = _clause(mention.before[-200:])
    if _COMPARE.search(clause):
        return True
    if _DESTINATION.search(clause):
        return False
    if _READ_LABEL.search(clause) or _OTHER_REPO.search(clause) or _OTHER_REPO_AFTER.match(mention.after):
        return True  # an example, input, output, source; a file of another repository
    match = _READ_WORDS.search(clause)
    if match and not _CHANGE_VERBS.search(clause[: match.start()]):
        return True
    return mention.located and bool(
        _READ_ANYWHERE.search(CODE_SPAN.sub("X", mention.before))
    )


def is_done(line: str) -> bool:
    return bool(_DONE_MARK.search(line))


# --------------------------------------------------------------------------------------------
# Label lines and action words in table cells

_LABEL_CREATE = re.compile(
    r"(?:files?\s+to\s+(?:be\s+)?(?:create|add|created|added)|new\s+files?|created\s+files?|files?\s+created"
    r"|^(?:create|new|add|creates?)$|新規ファイル|新規作成ファイル|新增文件|新建文件|新文件|새 파일|신규 파일|생성할 파일"
    r"|nouveaux fichiers|fichiers? (?:à créer|nouveaux|créés)|neue dateien|zu erstellende dateien"
    r"|archivos? (?:nuevos|a crear|creados)|nuevos archivos|arquivos? (?:novos|a criar|criados)|novos arquivos"
    r"|file (?:nuovi|da creare|creati)|nuovi file|новые файлы|создаваемые файлы|tệp mới|các tệp mới)",
    re.IGNORECASE,
)
_LABEL_DELETE = re.compile(
    r"(?:files?\s+to\s+(?:be\s+)?(?:delete|remove|deleted|removed)|(?:deleted|removed)\s+files?"
    r"|files?\s+(?:deleted|removed)|^(?:delete|remove|deletions?|removals?)$|削除するファイル|削除ファイル"
    r"|删除的文件|要删除的文件|删除文件|삭제할 파일|삭제 파일|zu löschende dateien|gelöschte dateien"
    r"|fichiers? à supprimer|archivos? a eliminar|arquivos? a (?:remover|excluir)|file da eliminare)",
    re.IGNORECASE,
)
_LABEL_MODIFY = re.compile(
    r"(?:files?\s+to\s+(?:be\s+)?(?:modify|update|change|edit|modified|updated|changed|edited)"
    r"|(?:modified|changed|updated)\s+files?"
    r"|files?\s+(?:modified|changed|updated|affected)|^(?:modify|update|edit)\b"
    r"|変更するファイル|変更ファイル|修改的文件|要修改的文件|修改文件|수정할 파일|변경할 파일|수정 파일"
    r"|fichiers? (?:modifiés|à modifier)|geänderte dateien|zu ändernde dateien|archivos? (?:modificados|a modificar)"
    r"|arquivos? (?:alterados|modificados|a (?:alterar|modificar))|file (?:modificati|da modificare)"
    r"|изменяемые файлы|изменённые файлы|tệp (?:thay đổi|cần sửa|sửa đổi))",
    re.IGNORECASE,
)
_LABEL_SKIP = re.compile(
    r"^(?:rollback|roll back|undo|revert|reverting|backout|back out|troubleshoot\w*|alternatives?"
    r"|example|examples|before|current|currently|today)\b",
    re.IGNORECASE,
)
_LABEL_EXCLUDE = re.compile(
    r"^(?:do not|don't|never|forbidden|unchanged|not changed|no changes?|out of scope|non-goals?"
    r"|must not|keep unchanged)\b",
    re.IGNORECASE,
)
_LABEL_READ = re.compile(
    r"^(?:pattern|patterns|reference|references|see also|files? to (?:verify|read|check|review)"
    r"|read first|existing|reuse|context files?|key files? to read|inspiration|pattern to follow)\b"
    r"|確認|确认|확인|\b(?:verify|check|confirm)\b",
    re.IGNORECASE,
)
_LABEL_CRITERIA = re.compile(
    r"(?:complete|done) when|acceptance criteria|definition of done|success criteria|完了条件",
    re.IGNORECASE,
)
_LABEL_LINE = re.compile(
    r"^[ \t]{0,3}(?:[-*+][ \t]+)?(?:\*\*|__)([^*_].{0,80}?)(?:\*\*|__)\s*[:：]?\s*(.*)$"
)
_PLAIN_LABEL = re.compile(
    r"^[ \t]{0,3}(?:[-*+][ \t]+)?([^\s|`#>*-][^:：|`]{0,60}?)\s*[:：]\s*$"
)


def label_kind(line: str) -> str | None:
    """The kind a label line gives the list under it: CREATE, DELETE, MODIFY, SKIP (rollback
    and the like: mentions there say nothing), EXCLUDE, READ, CRITERIA (a checklist of
    acceptance criteria: ticks there do not mark work done); None when it is no label."""
    bold = _LABEL_LINE.match(line)
    if bold:
        text, rest = bold.group(1), bold.group(2)
        if rest.strip() and not rest.strip().startswith("`"):
            return None  # "**Goal:** some sentence" is text, not a label over a list
    else:
        plain = _PLAIN_LABEL.match(line)
        if not plain:
            return None
        text = plain.group(1)
    text = text.strip().rstrip(":：").strip("*_ ")
    if _LABEL_CRITERIA.search(text):
        return "CRITERIA"
    if _LABEL_SKIP.match(text):
        return "SKIP"
    if _LABEL_EXCLUDE.match(text):
        return "EXCLUDE"
    if _LABEL_READ.match(text):
        return "READ"
    if _LABEL_DELETE.search(text):
        return "DELETE"
    if _LABEL_CREATE.search(text):
        return "CREATE"
    if _LABEL_MODIFY.search(text):
        return "MODIFY"
    if heading_role(text.lower()) in ("files", "tree"):
        return "FILES"  # "**涉及文件**:", "**Fichiers concernés :**": a list of the files the work touches
    return None


_CELL_CREATE = re.compile(
    r"^\W*(?:create[sd]?|new\b|add(?:ed)? (?:a )?(?:new )?file|scaffold|新增|新建|新規|作成|생성|추가"
    r"|crear|créer|nuevo|nouveau|criar|novo|nova|creare|nuovo|erstellen|neu|anlegen|создать|новый|tạo|mới)",
    re.IGNORECASE,
)
_CELL_DELETE = re.compile(
    r"^\W*(?:delete[sd]?|remove[sd]?|drop|删除|削除|삭제|supprimer|eliminar|borrar|remover|excluir|apagar"
    r"|eliminare|rimuovere|löschen|entfernen|удалить|xóa)(?!\w)", re.IGNORECASE
)
_CELL_SKIP = re.compile(
    r"^\W*(?:verify|check|read|reference|reuse|no change|unchanged|none|n/a|auto\b|generated"
    r"|keep|existing|确认|確認|参照|unverändert|keine änderung\w*|nicht ändern|sem alteraç\w+|inalterad[oa]|não alterar|invariat[oa]|nessuna modifica|non modificare|без изменений|не изменять|не менять|không đổi|giữ nguyên|aucun changement|aucune modification|ne pas modifier|sin modificaciones|no modificar|変更なし|変更不要|无需修改|不需要修改|保持不变|无变更|변경 없음|변경없음|수정 없음)",
    re.IGNORECASE,
)


def cell_action(text: str) -> str | None:
    """The action an action/type/status table cell names: CREATE, DELETE, MODIFY, SKIP (verify,
    read, no change, generated), DONE; None for an empty cell."""
    text = text.strip().strip("*_`")
    if not text:
        return None
    if _DONE_WORDS.search(text) or re.match(
        r"^(?:done|completed|shipped)\b", text, re.IGNORECASE
    ):
        return "DONE"
    if _CELL_CREATE.match(text):
        return "CREATE"
    if _CELL_DELETE.match(text):
        return "DELETE"
    if _CELL_SKIP.match(text):
        return "SKIP"
    return "MODIFY"
