"""Every fixed text of the completion sheet, in English and Simplified Chinese.

The PDF is rendered in the customer's language, which may differ from the language of the
process rendering it, so the sheet carries its own small catalogue instead of gettext.
"""

from __future__ import annotations

from collections.abc import Mapping

#: Languages a sheet can be rendered in.
LANGUAGES = ("en", "zh_CN")

LABELS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "title": "Service completion sheet",
        "work_order": "Work order",
        "category": "Category",
        "customer": "Customer",
        "site": "Site address",
        "asset": "Equipment",
        "model": "Model",
        "serial": "Serial number",
        "timeline": "Timeline",
        "created": "Created",
        "assigned": "Assigned",
        "arrived": "Arrived on site",
        "completed": "Completed",
        "technician": "Technician",
        "work_performed": "Work performed",
        "checklist": "Checklist",
        "item": "Item",
        "answer": "Answer",
        "ok": "OK",
        "not_ok": "Not OK",
        "parts": "Parts used",
        "part_number": "Part number",
        "description": "Description",
        "quantity": "Qty",
        "labour": "Labour time",
        "minutes": "{minutes} min",
        "hours_minutes": "{hours} h {minutes} min",
        "resolution": "Resolution",
        "photos": "Photos",
        "signatures": "Signatures",
        "customer_signature": "Customer",
        "technician_signature": "Technician",
        "signed_at": "Signed {time}",
        "no_signature": "Not signed",
        "verify": "Verify this document",
        "verify_hint": "Scan the code or open the address to check that this is the original.",
        "document": "Document {document_id} · revision {revision}",
        "page": "Page {page} of {pages}",
        "none": "—",
        "times_in": "Times in {zone}",
        "digital_signature": "Digitally signed by {company}",
    },
    "zh_CN": {
        "title": "服务完工单",
        "work_order": "工单",
        "category": "类别",
        "customer": "客户",
        "site": "服务地址",
        "asset": "设备",
        "model": "型号",
        "serial": "序列号",
        "timeline": "时间记录",
        "created": "创建",
        "assigned": "派单",
        "arrived": "到达现场",
        "completed": "完工",
        "technician": "技术员",
        "work_performed": "工作内容",
        "checklist": "检查清单",
        "item": "项目",
        "answer": "结果",
        "ok": "正常",
        "not_ok": "异常",
        "parts": "使用备件",
        "part_number": "备件号",
        "description": "说明",
        "quantity": "数量",
        "labour": "工时",
        "minutes": "{minutes} 分钟",
        "hours_minutes": "{hours} 小时 {minutes} 分钟",
        "resolution": "处理结果",
        "photos": "现场照片",
        "signatures": "签名",
        "customer_signature": "客户",
        "technician_signature": "技术员",
        "signed_at": "签署于 {time}",
        "no_signature": "未签名",
        "verify": "验证本文件",
        "verify_hint": "扫描二维码或打开以下地址，核验本文件是否为原件。",
        "document": "文件编号 {document_id} · 第 {revision} 版",
        "page": "第 {page} 页，共 {pages} 页",
        "none": "—",
        "times_in": "时间按 {zone} 时区显示",
        "digital_signature": "{company} 数字签名",
    },
}

#: Words for the usual resolution codes; a code without one is printed as it is.
RESOLUTION_LABELS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "replaced_part": "Part replaced",
        "repaired": "Repaired",
        "adjusted": "Adjusted",
        "cleaned": "Cleaned",
        "no_fault_found": "No fault found",
        "temporary_fix": "Temporary fix",
        "installed": "Installed",
        "inspected": "Inspected",
        "goodwill_credit": "Goodwill credit",
    },
    "zh_CN": {
        "replaced_part": "更换配件",
        "repaired": "已维修",
        "adjusted": "调整",
        "cleaned": "清洁",
        "no_fault_found": "未发现故障",
        "temporary_fix": "临时修复",
        "installed": "安装",
        "inspected": "检查",
        "goodwill_credit": "善意补偿",
    },
}


def resolution_label(code: str, locale: str | None) -> str:
    """Return the customer-facing words for a resolution code, or the code itself."""
    return RESOLUTION_LABELS[language_of(locale)].get(code, code)


def language_of(locale: str | None) -> str:
    """Return the sheet language for a locale: ``zh_CN`` for any Chinese one, else ``en``."""
    return "zh_CN" if (locale or "").lower().startswith("zh") else "en"


def labels_for(locale: str | None) -> Mapping[str, str]:
    """Return the fixed texts in the language of ``locale``."""
    return LABELS[language_of(locale)]
