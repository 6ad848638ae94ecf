"""The one declaration of every source entity.

A contract says where an entity comes from, how its extract is shaped, which columns it has (their source
names, canonical names, types and rules) and how to tell one record from another. Parsing (``ingest``),
validation suites (``expectations``) and the dbt sources (``dbt_project``) are all derived from here;
``python -m ingest.contracts`` regenerates the dbt sources and a test fails when they drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa

from ingest import case_catalogue

ColumnType = Literal[
    "text",
    "name",
    "int",
    "float",
    "date",
    "timestamp",
    "id_number",
    "phone",
    "code",
    "credit_code",
    "geometry",
]
Format = Literal["csv", "json_pages", "geojson", "xlsx"]
Extract = Literal["snapshot", "incremental"]

ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "name": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "id_number": pa.string(),
    "phone": pa.string(),
    "code": pa.string(),
    "credit_code": pa.string(),  # unified social credit code (GB 32100)
    "geometry": pa.string(),  # a GeoJSON geometry, as text
}

# Lineage columns every landed row carries, so any warehouse row traces back to its origin.
LINEAGE_SCHEMA = pa.schema(
    [
        ("_batch_id", pa.string()),
        ("_load_date", pa.date32()),
        ("_loaded_at", pa.timestamp("us")),
        ("_source_file", pa.string()),
        ("_source_row", pa.int64()),
        ("_raw", pa.string()),
    ]
)

DIVISION = (6, 3, 3)  # 统计用区划代码: county + street/town + community/village
GRID = (6, 3, 3, 4)  # unit grid: community code + 4-digit sequence (GB/T 30428.1 style)

CASE_CATEGORIES = case_catalogue.categories()
YES_NO = ("是", "否")


@dataclass(frozen=True)
class Column:
    name: str
    source: str
    type: ColumnType = "text"
    required: bool = False
    code_set: tuple[str, ...] | None = None
    segments: tuple[int, ...] | None = None  # digit widths of a hierarchical code, e.g. (6, 3, 3)
    masked_allowed: bool = False  # the source may send personal numbers masked (210202********123X)
    may_be_future: bool = False  # a date that lies ahead (a deadline), unlike an event that happened
    references: str | None = None  # "system.entity.column" a value must exist in (a member's organization)
    description: str = ""


@dataclass(frozen=True)
class Contract:
    system: str
    entity: str
    version: int
    format: Format
    extract: Extract
    primary_key: tuple[str, ...]
    change_time: str
    columns: tuple[Column, ...]
    description: str
    file_glob: str
    json_records_path: tuple[str, ...] = field(default=())

    @property
    def key(self) -> str:
        return f"{self.system}.{self.entity}"

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def arrow_schema(self) -> pa.Schema:
        typed = pa.schema([(c.name, ARROW_TYPES[c.type]) for c in self.columns])
        return pa.unify_schemas([typed, LINEAGE_SCHEMA])


C = Column

CONTRACTS: tuple[Contract, ...] = (
    Contract(
        system="party",
        entity="organizations",
        version=1,
        format="csv",
        extract="snapshot",
        primary_key=("org_code",),
        change_time="updated_at",
        file_glob="organizations*.csv",
        description="党组织 party organizations, full snapshot exported nightly by the party system (GBK CSV).",
        columns=(
            C("org_code", "组织编码", "code", required=True, description="组织编码 organization code"),
            C("org_name", "组织名称", "text", required=True, description="组织名称 organization name"),
            C(
                "org_type",
                "组织类别",
                "text",
                required=True,
                code_set=("党委", "党工委", "党总支", "党支部", "联合党支部", "临时党支部"),
                description="组织类别 organization type",
            ),
            C(
                "parent_org_code",
                "上级组织编码",
                "code",
                references="party.organizations.org_code",
                description="上级组织编码 parent organization",
            ),
            C(
                "division_code",
                "所在区划代码",
                "code",
                segments=DIVISION,
                description="统计用区划代码 12-digit division",
            ),
            C(
                "grid_code",
                "所在网格编码",
                "code",
                segments=GRID,
                references="city.grids.grid_code",
                description="网格编码 grid of a grid branch",
            ),
            C(
                "credit_code",
                "统一社会信用代码",
                "credit_code",
                description="统一社会信用代码 a resident unit's organization: its unit's code, where recorded",
            ),
            C("founded_on", "成立日期", "date", description="成立日期 founding date"),
            C("updated_at", "更新时间", "timestamp", required=True, description="更新时间 last change"),
        ),
    ),
    Contract(
        system="party",
        entity="members",
        version=1,
        format="csv",
        extract="snapshot",
        primary_key=("member_id",),
        change_time="updated_at",
        file_glob="members*.csv",
        description="党员 party members, full snapshot exported nightly by the party system (GBK CSV).",
        columns=(
            C("member_id", "党员编号", "code", required=True, description="党员编号 member number"),
            C("full_name", "姓名", "name", required=True, description="姓名 full name (personal data)"),
            C("gender", "性别", "text", code_set=("男", "女"), description="性别 gender"),
            C("ethnicity", "民族", "text", description="民族 ethnicity"),
            C("birth_date", "出生日期", "date", description="出生日期 birth date"),
            C(
                "id_number",
                "公民身份号码",
                "id_number",
                required=True,
                description="身份证号 (personal data)",
            ),
            C("phone", "手机号码", "phone", description="手机号码 mobile, E.164 (personal data)"),
            C("joined_on", "入党日期", "date", required=True, description="入党日期 date joined"),
            C(
                "member_category",
                "党员类别",
                "text",
                required=True,
                code_set=("正式党员", "预备党员"),
                description="党员类别 full or probationary member",
            ),
            C(
                "employment_status",
                "工作状态",
                "text",
                code_set=("在职", "离退休"),
                description="在职/离退休 in service or retired",
            ),
            C(
                "org_code",
                "所在组织编码",
                "code",
                required=True,
                references="party.organizations.org_code",
                description="所在党组织 organization",
            ),
            C("updated_at", "更新时间", "timestamp", required=True, description="更新时间 last change"),
        ),
    ),
    Contract(
        system="party",
        entity="member_transfers",
        version=1,
        format="csv",
        extract="incremental",
        primary_key=("transfer_no",),
        change_time="updated_at",
        file_glob="member_transfers*.csv",
        description=(
            "组织关系转接 relationship transfers recorded since the last extract (GBK CSV); some reach the system "
            "days after their effective date."
        ),
        columns=(
            C("transfer_no", "转接编号", "code", required=True, description="转接编号 transfer number"),
            C(
                "member_id",
                "党员编号",
                "code",
                required=True,
                references="party.members.member_id",
                description="党员编号 the member who moves",
            ),
            C(
                "from_org_code",
                "转出组织编码",
                "code",
                required=True,
                references="party.organizations.org_code",
                description="转出组织 organization left",
            ),
            C(
                "to_org_code",
                "转入组织编码",
                "code",
                required=True,
                references="party.organizations.org_code",
                description="转入组织 organization joined",
            ),
            C("effective_on", "生效日期", "date", required=True, description="生效日期 effective date"),
            C(
                "transfer_type",
                "转接类型",
                "text",
                required=True,
                code_set=("转入", "转出", "内部调整"),
                description="转接类型 filed by the receiving (转入) or sending (转出) side, or within a community",
            ),
            C("updated_at", "更新时间", "timestamp", required=True, description="更新时间 when recorded"),
        ),
    ),
    Contract(
        system="party",
        entity="dual_registrations",
        version=1,
        format="csv",
        extract="snapshot",
        primary_key=("registration_id",),
        change_time="updated_at",
        file_glob="dual_registrations*.csv",
        description=(
            "双报到 registrations of in-service members and resident units' party organizations with a community, "
            "each with its latest annual report; full snapshot (GBK CSV)."
        ),
        columns=(
            C("registration_id", "报到编号", "code", required=True, description="报到编号 registration id"),
            C(
                "registrant_kind",
                "报到类型",
                "text",
                required=True,
                code_set=("党员", "党组织"),
                description="报到类型 a member or an organization",
            ),
            C(
                "member_id",
                "党员编号",
                "code",
                references="party.members.member_id",
                description="党员编号 the registered member",
            ),
            C(
                "org_code",
                "组织编码",
                "code",
                references="party.organizations.org_code",
                description="组织编码 the registered organization",
            ),
            C(
                "community_code",
                "报到社区代码",
                "code",
                segments=DIVISION,
                required=True,
                description="报到社区 12-digit community registered with",
            ),
            C("registered_on", "报到日期", "date", required=True, description="报到日期 registration date"),
            C("report_year", "报告年度", "int", description="报告年度 year of the latest annual report"),
            C("report_submitted_on", "报告提交日期", "date", description="报告提交日期 report submitted"),
            C("activities_count", "活动次数", "int", description="活动次数 activities in that year"),
            C("updated_at", "更新时间", "timestamp", required=True, description="更新时间 last change"),
        ),
    ),
    Contract(
        system="party",
        entity="volunteer_service",
        version=1,
        format="csv",
        extract="incremental",
        primary_key=("record_no",),
        change_time="updated_at",
        file_glob="volunteer_service*.csv",
        description=(
            "志愿服务 volunteer service, one record per volunteer per activity with hours and points (积分制), "
            "recorded since the last extract (GBK CSV)."
        ),
        columns=(
            C("record_no", "记录编号", "code", required=True, description="记录编号 service record number"),
            C("activity_id", "活动编号", "code", required=True, description="活动编号 activity id"),
            C("served_on", "服务日期", "date", required=True, description="服务日期 activity date"),
            C(
                "community_code",
                "服务社区代码",
                "code",
                segments=DIVISION,
                required=True,
                description="服务社区 12-digit community served",
            ),
            C(
                "member_id",
                "党员编号",
                "code",
                references="party.members.member_id",
                description="党员编号 when the volunteer is a member",
            ),
            C("volunteer_name", "姓名", "name", required=True, description="姓名 volunteer (personal data)"),
            C("volunteer_phone", "手机号码", "phone", description="手机号码 E.164 (personal data)"),
            C("hours", "服务时长", "float", required=True, description="服务时长 hours served"),
            C("points", "积分", "int", required=True, description="积分 points earned"),
            C("updated_at", "更新时间", "timestamp", required=True, description="更新时间 when recorded"),
        ),
    ),
    Contract(
        system="gov",
        entity="residents",
        version=1,
        format="json_pages",
        extract="snapshot",
        primary_key=("resident_id",),
        change_time="updated_at",
        file_glob="residents_page_*.json",
        json_records_path=("data", "records"),
        description="居民 residents, full snapshot served as paged JSON by the government-affairs system.",
        columns=(
            C("resident_id", "residentId", "code", required=True, description="居民编号 resident id"),
            C("full_name", "name", "name", required=True, description="姓名 full name (personal data)"),
            C("gender", "gender", "text", code_set=("男", "女"), description="性别 gender"),
            C("birth_date", "birthDate", "date", description="出生日期 birth date"),
            C(
                "id_number",
                "idCard",
                "id_number",
                masked_allowed=True,
                description="身份证号, often masked (personal data)",
            ),
            C("phone", "mobile", "phone", description="手机号码 mobile, E.164 (personal data)"),
            C(
                "community_code",
                "communityCode",
                "code",
                segments=DIVISION,
                required=True,
                description="所在社区",
            ),
            C("address", "address", "text", description="住址 address (personal data)"),
            C("updated_at", "updateTime", "timestamp", required=True, description="更新时间 last change"),
        ),
    ),
    Contract(
        system="gov",
        entity="hotline_orders",
        version=1,
        format="json_pages",
        extract="incremental",
        primary_key=("order_no",),
        change_time="updated_at",
        file_glob="hotline_orders_page_*.json",
        json_records_path=("data", "records"),
        description="12345 热线工单 hotline work orders changed since the last extract (paged JSON).",
        columns=(
            C("order_no", "orderNo", "code", required=True, description="工单编号 order number"),
            C("received_at", "receivedTime", "timestamp", required=True, description="受理时间 received"),
            C("caller_phone", "callerPhone", "phone", description="来电号码 caller (personal data)"),
            C(
                "order_type",
                "orderType",
                "text",
                required=True,
                code_set=("咨询", "求助", "投诉", "举报", "建议", "表扬"),
                description="诉求类型 order type",
            ),
            C("category", "category", "text", code_set=CASE_CATEGORIES, description="事项大类 category"),
            C("community_code", "communityCode", "code", segments=DIVISION, description="所属社区 community"),
            C("handling_unit", "handlingUnit", "text", description="承办单位 handling unit"),
            C("deadline_at", "deadline", "timestamp", may_be_future=True, description="办理时限 deadline"),
            C("completed_at", "finishTime", "timestamp", description="办结时间 completed"),
            C(
                "satisfaction",
                "satisfaction",
                "text",
                code_set=("满意", "基本满意", "不满意", "未回访"),
                description="回访结果 callback result (未回访: the caller is not called back)",
            ),
            C(
                "callback_at",
                "callbackTime",
                "timestamp",
                description="回访时间 when the caller was called back",
            ),
            C("forwarded_case_no", "gridCaseNo", "code", description="转网格案件编号 grid case it became"),
            C(
                "status",
                "status",
                "text",
                required=True,
                code_set=("受理", "办理中", "已转办", "已办结"),
                description="工单状态 status",
            ),
            C("updated_at", "updateTime", "timestamp", required=True, description="更新时间 last change"),
        ),
    ),
    Contract(
        system="gov",
        entity="resident_units",
        version=1,
        format="json_pages",
        extract="snapshot",
        primary_key=("unit_id",),
        change_time="updated_at",
        file_glob="resident_units_page_*.json",
        json_records_path=("data", "records"),
        description="驻区单位 resident units, full snapshot served as paged JSON; one unit may be registered twice.",
        columns=(
            C("unit_id", "unitId", "code", required=True, description="单位登记编号 registration id"),
            C(
                "credit_code",
                "creditCode",
                "credit_code",
                required=True,
                description="统一社会信用代码 unified social credit code (GB 32100)",
            ),
            C("unit_name", "unitName", "text", required=True, description="单位名称 unit name"),
            C(
                "unit_type",
                "unitType",
                "text",
                required=True,
                code_set=("机关", "事业单位", "国有企业", "民营企业", "社会组织"),
                description="单位类型 unit type",
            ),
            C(
                "community_code",
                "communityCode",
                "code",
                segments=DIVISION,
                required=True,
                description="所在社区 community",
            ),
            C("address", "address", "text", description="单位地址 address"),
            C("contact_phone", "contactPhone", "phone", description="联系电话 contact phone, E.164"),
            C("updated_at", "updateTime", "timestamp", required=True, description="更新时间 last change"),
        ),
    ),
    Contract(
        system="gov",
        entity="service_items",
        version=1,
        format="xlsx",
        extract="snapshot",
        primary_key=("item_code",),
        change_time="updated_at",
        file_glob="service_items*.xlsx",
        description="便民服务事项清单 the service-item list, an XLSX export with a title and a merged two-level header.",
        columns=(
            C("list_seq", "序号", "int", description="序号 position in the list"),
            C("item_code", "事项信息/事项编码", "code", required=True, description="事项编码 item code"),
            C("item_name", "事项信息/事项名称", "text", required=True, description="事项名称 item name"),
            C("department", "事项信息/实施部门", "text", description="实施部门 department"),
            C(
                "promised_working_days",
                "办理要求/承诺时限(工作日)",
                "int",
                required=True,
                description="承诺时限 promised working days (0: done on the spot)",
            ),
            C(
                "is_online",
                "办理要求/是否网办",
                "text",
                code_set=YES_NO,
                description="是否网办 can be done online",
            ),
            C(
                "is_one_visit",
                "办理要求/最多跑一次",
                "text",
                code_set=YES_NO,
                description="最多跑一次 at most one visit",
            ),
            C("updated_at", "更新时间", "timestamp", required=True, description="更新时间 last change"),
        ),
    ),
    Contract(
        system="gov",
        entity="service_applications",
        version=1,
        format="json_pages",
        extract="incremental",
        primary_key=("application_no",),
        change_time="updated_at",
        file_glob="service_applications_page_*.json",
        json_records_path=("data", "records"),
        description="办件 service applications changed since the last extract (paged JSON).",
        columns=(
            C("application_no", "applyNo", "code", required=True, description="办件编号 application number"),
            C(
                "item_code",
                "itemCode",
                "code",
                required=True,
                references="gov.service_items.item_code",
                description="事项编码 service item",
            ),
            C(
                "applicant_type",
                "applicantType",
                "text",
                required=True,
                code_set=("个人", "单位"),
                description="申请人类型 person or unit",
            ),
            C(
                "resident_id",
                "residentId",
                "code",
                references="gov.residents.resident_id",
                description="居民编号 applicant resident",
            ),
            C(
                "id_number",
                "idCard",
                "id_number",
                masked_allowed=True,
                description="申请人身份证号, often masked (personal data)",
            ),
            C("phone", "mobile", "phone", description="申请人手机 mobile, E.164 (personal data)"),
            C(
                "credit_code",
                "creditCode",
                "credit_code",
                references="gov.resident_units.credit_code",
                description="申请单位统一社会信用代码 applicant unit",
            ),
            C(
                "channel",
                "channel",
                "text",
                required=True,
                code_set=("窗口", "网上", "移动端"),
                description="申请渠道 window, online, mobile",
            ),
            C("submitted_at", "submitTime", "timestamp", required=True, description="申请时间 submitted"),
            C("accepted_at", "acceptTime", "timestamp", description="受理时间 accepted"),
            C("completed_at", "finishTime", "timestamp", description="办结时间 completed"),
            C("visits", "visits", "int", description="跑动次数 visits in person"),
            C(
                "status",
                "status",
                "text",
                required=True,
                code_set=("已提交", "已受理", "已办结"),
                description="办件状态 status",
            ),
            C(
                "community_code",
                "communityCode",
                "code",
                segments=DIVISION,
                required=True,
                description="所属社区 community",
            ),
            C("updated_at", "updateTime", "timestamp", required=True, description="更新时间 last change"),
        ),
    ),
    Contract(
        system="city",
        entity="grids",
        version=1,
        format="geojson",
        extract="snapshot",
        primary_key=("grid_code",),
        change_time="updated_at",
        file_glob="grids.geojson",
        description="单元网格 unit grids with polygons, full snapshot (GeoJSON) from the city-grid system.",
        columns=(
            C(
                "grid_code",
                "gridCode",
                "code",
                segments=GRID,
                required=True,
                description="网格编码 grid code",
            ),
            C("grid_name", "gridName", "text", required=True, description="网格名称 grid name"),
            C(
                "community_code",
                "communityCode",
                "code",
                segments=DIVISION,
                required=True,
                description="所属社区",
            ),
            C("community_name", "communityName", "text", description="社区名称 community name"),
            C("street_name", "streetName", "text", description="街道名称 street name"),
            C("area_m2", "areaM2", "float", description="面积 area in square metres"),
            C("households", "households", "int", description="户数 households"),
            C("population", "population", "int", description="人口 population"),
            C("geometry", "geometry", "geometry", description="GeoJSON polygon"),
            C("updated_at", "updatedAt", "timestamp", required=True, description="更新时间 last change"),
        ),
    ),
    Contract(
        system="city",
        entity="grid_workers",
        version=1,
        format="csv",
        extract="snapshot",
        primary_key=("worker_id",),
        change_time="updated_at",
        file_glob="grid_workers*.csv",
        description="网格员 grid workers and their grid, full snapshot (UTF-8 CSV) from the city-grid system.",
        columns=(
            C("worker_id", "worker_id", "code", required=True, description="网格员编号 worker id"),
            C("full_name", "name", "name", required=True, description="姓名 (personal data)"),
            C("phone", "phone", "phone", required=True, description="手机号码 E.164 (personal data)"),
            C(
                "grid_code",
                "grid_code",
                "code",
                segments=GRID,
                required=True,
                references="city.grids.grid_code",
                description="负责网格 grid",
            ),
            C(
                "worker_type",
                "worker_type",
                "text",
                required=True,
                code_set=("专职", "兼职"),
                description="专职/兼职 full or part time",
            ),
            C("updated_at", "updated_at", "timestamp", required=True, description="更新时间 last change"),
        ),
    ),
    Contract(
        system="city",
        entity="cases",
        version=2,
        format="csv",
        extract="incremental",
        primary_key=("case_no",),
        change_time="updated_at",
        file_glob="cases*.csv",
        description="网格案件 grid cases changed since the last extract (UTF-8 CSV) from the city-grid system.",
        columns=(
            C("case_no", "case_no", "code", required=True, description="案件编号 case number"),
            C(
                "grid_code",
                "grid_code",
                "code",
                segments=GRID,
                required=True,
                references="city.grids.grid_code",
                description="所在网格 grid",
            ),
            C(
                "case_origin",
                "source",
                "text",
                required=True,
                code_set=("巡查", "居民上报", "12345转办", "视频监控"),
                description="案件来源 patrol, resident, 12345, video",
            ),
            C("category", "category", "text", required=True, code_set=CASE_CATEGORIES, description="大类"),
            C("item", "item", "text", description="事项 item within the category"),
            C("reporter_phone", "reporter_phone", "phone", description="上报人电话 (personal data)"),
            C("hotline_order_no", "hotline_order_no", "code", description="12345 工单编号 if forwarded"),
            C("reported_at", "reported_at", "timestamp", required=True, description="上报时间 reported"),
            C("deadline_at", "deadline_at", "timestamp", may_be_future=True, description="处置时限 deadline"),
            C("closed_at", "closed_at", "timestamp", description="结案时间 closed"),
            C(
                "status",
                "status",
                "text",
                required=True,
                code_set=("已上报", "已立案", "已派遣", "处置中", "待核查", "已结案", "已作废"),
                description="案件状态 status; 已作废 voided",
            ),
            C(
                "resolved_level",
                "resolved_level",
                "text",
                code_set=("网格", "社区", "街道", "区"),
                description="解决层级 level resolved",
            ),
            C("deleted_at", "deleted_at", "timestamp", description="作废时间 voided (a soft delete)"),
            C("updated_at", "updated_at", "timestamp", required=True, description="更新时间 last change"),
        ),
    ),
    Contract(
        system="city",
        entity="case_steps",
        version=1,
        format="csv",
        extract="incremental",
        primary_key=("case_no", "step_seq"),
        change_time="occurred_at",
        file_glob="case_steps*.csv",
        description="案件流转环节 workflow steps of grid cases, new since the last extract (UTF-8 CSV).",
        columns=(
            C("case_no", "case_no", "code", required=True, description="案件编号 case number"),
            C("step_seq", "step_seq", "int", required=True, description="环节序号 step number"),
            C(
                "step",
                "step",
                "text",
                required=True,
                code_set=("上报", "立案", "派遣", "处置", "反馈", "核查", "结案", "返工"),
                description="环节 workflow step",
            ),
            C("occurred_at", "occurred_at", "timestamp", required=True, description="发生时间 when"),
            C("actor", "actor", "text", description="处理人/部门 who acted"),
        ),
    ),
    Contract(
        system="city",
        entity="council_meetings",
        version=1,
        format="csv",
        extract="incremental",
        primary_key=("meeting_id",),
        change_time="updated_at",
        file_glob="council_meetings*.csv",
        description="网格议事会 grid council meetings recorded since the last extract (UTF-8 CSV), city system.",
        columns=(
            C("meeting_id", "meeting_id", "code", required=True, description="议事编号 meeting id"),
            C(
                "grid_code",
                "grid_code",
                "code",
                segments=GRID,
                required=True,
                references="city.grids.grid_code",
                description="所在网格 grid",
            ),
            C("held_on", "held_on", "date", required=True, description="议事日期 day held"),
            C("topic", "topic", "text", required=True, description="议题 topic"),
            C("attendees", "attendees", "int", required=True, description="参会人数 attendees"),
            C(
                "party_member_attendees",
                "party_member_attendees",
                "int",
                description="其中党员人数 of whom party members",
            ),
            C("cases_raised", "cases_raised", "int", description="提出案件数 grid cases raised"),
            C(
                "outcome",
                "outcome",
                "text",
                code_set=("达成共识", "形成决议", "提交社区协调", "暂缓议定"),
                description="议事结果 outcome",
            ),
            C("updated_at", "updated_at", "timestamp", required=True, description="录入时间 recorded"),
        ),
    ),
)

BY_KEY: dict[str, Contract] = {c.key: c for c in CONTRACTS}
SYSTEMS: tuple[str, ...] = tuple(dict.fromkeys(c.system for c in CONTRACTS))


def get(system: str, entity: str) -> Contract:
    try:
        return BY_KEY[f"{system}.{entity}"]
    except KeyError:
        raise KeyError(f"no contract for {system}.{entity}; known: {sorted(BY_KEY)}") from None


def for_system(system: str) -> tuple[Contract, ...]:
    return tuple(c for c in CONTRACTS if c.system == system)
