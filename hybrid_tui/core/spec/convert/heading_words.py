"""The heading words of each section role, per language: the table to extend for a wording or a
language the converter does not know yet.

Roles: "verify" (checks to run), "files" (a list of the files the plan touches), "tree" (a
project / folder structure: also a list of files), "changes" (the steps), "exclude" (out of
scope), "no change" (files that stay as they are; read as out of scope), "read" (what exists
already, to reuse or consult) and "done" (finished work). Languages: en, zh, ja, ko, de, fr, es, pt, it, ru, vi.

`heading_role` compares a normalised heading (`sections.normalize_heading`: lower case, no
decoration, no leading numbering, and no step prefix) with the words: the heading starts with
the word (for words in spaced scripts, a whole word), the longest word of any role wins ("变更文件",
changed files, is "files", not "changes"). A "done" word also counts at the end of a heading
(`Phase 1: Setup (terminé)`). The English-only regexes in `sections` come first; this table
decides what they leave open.
"""

from __future__ import annotations

import re
from functools import lru_cache

HEADING_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "verify": {
        "en": ("verification", "verify", "testing", "tests", "validation", "how to test", "test plan"),
        "zh": ("验证", "测试", "检验", "驗證", "測試", "验收测试"),
        "ja": ("検証", "テスト", "動作確認", "確認方法", "検証方法"),
        "ko": ("검증", "테스트", "확인 방법", "검증 방법"),
        "de": ("verifizierung", "verifikation", "überprüfung", "prüfung", "tests", "testen", "validierung", "abnahme"),
        "fr": ("vérification", "verification", "validation", "tests"),
        "es": ("verificación", "verificacion", "validación", "pruebas"),
        "pt": ("verificação", "verificacao", "validação", "testes"),
        "it": ("verifica", "verifiche", "validazione", "test"),
        "ru": ("проверка", "тестирование", "валидация", "тесты"),
        "vi": ("kiểm tra", "kiểm thử", "xác minh"),
    },
    "files": {
        "en": ("files", "files to change", "affected files", "changed files", "file changes"),
        "zh": ("文件", "涉及文件", "相关文件", "影响文件", "修改文件", "变更文件", "改动文件", "文件清单", "文件列表", "修改的文件"),
        "ja": ("ファイル", "変更ファイル", "対象ファイル", "ファイル一覧", "変更するファイル"),
        "ko": ("파일", "변경 파일", "수정 파일", "대상 파일", "변경할 파일", "수정할 파일"),
        "de": ("dateien", "betroffene dateien", "geänderte dateien", "zu ändernde dateien"),
        "fr": ("fichiers", "fichiers modifiés", "fichiers concernés", "fichiers à modifier"),
        "es": ("archivos", "ficheros", "archivos modificados", "archivos a modificar"),
        "pt": ("arquivos", "ficheiros", "arquivos modificados", "arquivos alterados", "arquivos a modificar"),
        "it": ("file modificati", "file coinvolti", "file da modificare", "file interessati"),
        "ru": ("файлы", "изменяемые файлы", "затронутые файлы", "файлы для изменения"),
        "vi": ("tệp", "các tệp", "tập tin", "tệp thay đổi", "các file", "file thay đổi"),
    },
    "tree": {
        "en": ("directory tree", "file tree", "project structure", "folder structure", "directory structure",
               "file structure", "directory layout", "project layout"),
        "zh": ("目录结构", "项目结构", "文件结构", "目录树", "目錄結構", "專案結構"),
        "ja": ("ディレクトリ構成", "ディレクトリ構造", "フォルダ構成", "ファイル構成", "プロジェクト構成", "プロジェクト構造"),
        "ko": ("디렉토리 구조", "디렉터리 구조", "폴더 구조", "프로젝트 구조", "파일 구조"),
        "de": ("verzeichnisstruktur", "projektstruktur", "ordnerstruktur", "dateistruktur", "verzeichnisbaum"),
        "fr": ("arborescence", "structure du projet", "structure des fichiers", "structure des dossiers",
               "structure des répertoires"),
        "es": ("estructura del proyecto", "estructura de directorios", "estructura de carpetas",
               "árbol de directorios", "estructura de archivos"),
        "pt": ("estrutura do projeto", "estrutura de diretórios", "estrutura de pastas", "árvore de diretórios",
               "estrutura de arquivos"),
        "it": ("struttura del progetto", "struttura delle cartelle", "struttura delle directory",
               "struttura dei file"),
        "ru": ("структура проекта", "структура каталогов", "структура папок", "дерево файлов", "структура файлов"),
        "vi": ("cấu trúc thư mục", "cấu trúc dự án", "cây thư mục", "cấu trúc tệp"),
    },
    "changes": {
        "en": ("changes", "steps", "implementation", "tasks"),
        "zh": ("修改", "改动", "变更", "实施步骤", "步骤", "实现", "实施", "修改内容", "修改方案"),
        "ja": ("変更", "変更内容", "実装", "手順", "修正内容", "実装手順", "修正"),
        "ko": ("변경", "변경 사항", "구현", "작업", "단계", "수정 사항"),
        "de": ("änderungen", "schritte", "umsetzung", "implementierung"),
        "fr": ("modifications", "changements", "étapes", "implémentation", "mise en œuvre", "mise en oeuvre"),
        "es": ("cambios", "pasos", "implementación", "implementacion"),
        "pt": ("mudanças", "alterações", "passos", "etapas", "implementação", "implementacao"),
        "it": ("modifiche", "passi", "implementazione", "fasi"),
        "ru": ("изменения", "шаги", "реализация", "этапы"),
        "vi": ("thay đổi", "các bước", "triển khai", "thực hiện"),
    },
    "exclude": {
        "en": ("out of scope", "non-goals", "not in scope"),
        "zh": ("不在范围内", "范围外", "非目标", "不包含", "不做"),
        "ja": ("範囲外", "スコープ外", "対象外"),
        "ko": ("범위 밖", "범위 외", "제외 사항", "범위 제외"),
        "de": ("nicht im umfang", "außerhalb des umfangs", "nicht-ziele", "nicht enthalten"),
        "fr": ("hors périmètre", "hors du périmètre", "hors champ", "non-objectifs"),
        "es": ("fuera de alcance", "fuera del alcance", "no objetivos"),
        "pt": ("fora do escopo", "fora de escopo", "não objetivos"),
        "it": ("fuori ambito", "fuori dall'ambito", "fuori scope", "non obiettivi"),
        "ru": ("вне рамок", "не входит", "за рамками"),
        "vi": ("ngoài phạm vi", "không nằm trong phạm vi"),
    },
    "no change": {
        "en": ("no changes", "no changes needed", "unchanged", "not changed"),
        "zh": ("无需修改", "不修改", "不变", "无需变更", "保持不变"),
        "ja": ("変更なし", "変更不要", "修正不要"),
        "ko": ("변경 없음", "수정 불필요", "변경 불필요"),
        "de": ("keine änderungen", "unverändert"),
        "fr": ("aucun changement", "aucune modification", "inchangé", "sans changement"),
        "es": ("sin cambios", "no requiere cambios", "sin modificaciones"),
        "pt": ("sem alterações", "sem mudanças", "inalterado"),
        "it": ("nessuna modifica", "invariato", "senza modifiche"),
        "ru": ("без изменений", "не меняется", "не изменяется"),
        "vi": ("không thay đổi", "không cần thay đổi", "giữ nguyên"),
    },
    "read": {
        "en": ("what exists", "what already exists", "existing", "reuse", "references", "current state"),
        "zh": ("现有", "已有", "现状", "复用", "可复用", "参考"),
        "ja": ("既存", "現状", "再利用", "参考"),
        "ko": ("기존", "현재 상태", "재사용", "참고"),
        "de": ("bestehend", "vorhanden", "was es schon gibt", "wiederverwenden", "ist-zustand", "referenzen"),
        "fr": ("ce qui existe", "existant", "à réutiliser", "réutiliser", "état actuel", "références"),
        "es": ("lo que existe", "existente", "reutilizar", "estado actual", "referencias"),
        "pt": ("o que existe", "o que já existe", "existente", "reutilizar", "estado atual", "referências"),
        "it": ("cosa esiste", "esistente", "riutilizzare", "stato attuale", "riferimenti"),
        "ru": ("что уже есть", "существующее", "переиспользовать", "текущее состояние", "ссылки"),
        "vi": ("hiện có", "hiện trạng", "tái sử dụng", "tham khảo"),
    },
    "done": {
        "en": ("done", "completed", "implemented", "finished"),
        "zh": ("已完成", "已实现", "完成"),
        "ja": ("完了", "実装済み", "対応済み"),
        "ko": ("완료", "구현 완료"),
        "de": ("erledigt", "abgeschlossen", "umgesetzt"),
        "fr": ("terminé", "achevé", "implémenté"),
        "es": ("hecho", "completado", "terminado", "implementado"),
        "pt": ("concluído", "concluido", "feito", "implementado"),
        "it": ("completato", "terminato", "implementato"),
        "ru": ("выполнено", "готово", "завершено", "сделано"),
        "vi": ("đã xong", "hoàn thành", "đã hoàn thành"),
    },
}

LANGUAGES = ("en", "zh", "ja", "ko", "de", "fr", "es", "pt", "it", "ru", "vi")


def _spaced(word: str) -> bool:
    """A word of a script that separates words with spaces (Latin, Cyrillic, Vietnamese)."""
    return not any("\u3000" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" or "\uff00" <= ch <= "\uffef"
                   for ch in word)


def _alternative(word: str) -> str:
    escaped = re.escape(word)
    return rf"{escaped}(?![\w-])" if _spaced(word) else escaped


@lru_cache(maxsize=1)
def _compiled() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, str]]:
    """(the words at the start, the done words at the end, word -> role); longest first, so
    the alternation finds the longest word that matches."""
    roles: dict[str, str] = {}
    for role, languages in HEADING_WORDS.items():
        for words in languages.values():
            for word in words:
                roles.setdefault(word, role)
    ordered = sorted(roles, key=len, reverse=True)
    start = re.compile("^(" + "|".join(_alternative(w) for w in ordered) + ")")
    done = sorted({w for words in HEADING_WORDS["done"].values() for w in words}, key=len, reverse=True)
    end = re.compile(
        r"(?:^|[\s(\[（【:：—–-])(" + "|".join(re.escape(w) for w in done) + r")[\s)\]）】.!]*$"
        + "|(" + "|".join(re.escape(w) for w in done if not _spaced(w)) + r")[)\]）】\s]*$"
    )
    return start, end, roles


def heading_role(norm: str) -> str | None:
    """The role of a normalised heading by the table (see the module docstring), or None."""
    start, end, roles = _compiled()
    first = start.match(norm)
    last = end.search(norm)
    done = (last.group(1) or last.group(2)) if last else ""
    if first and len(first.group(1)) >= len(done):
        return roles[first.group(1)]
    return "done" if done else None
