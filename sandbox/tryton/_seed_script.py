"""Seed a fresh Tryton database: run by Tryton's own Python (proteus), not quotebot's.

usage: python _seed_script.py CONFIG_FILE DATABASE SPEC_JSON USERS_JSON
"""

import datetime as dt
import json
import sys
from decimal import Decimal

from proteus import Model, config
from trytond.modules.account.tests.tools import create_chart, create_fiscalyear, get_accounts
from trytond.modules.account_invoice.tests.tools import (
    create_payment_term,
    set_fiscalyear_invoice_sequences,
)
from trytond.modules.company.tests.tools import create_company, get_company
from trytond.modules.currency.tests.tools import get_currency


def main(config_file, database, spec_path, users_path):
    spec = json.load(open(spec_path, encoding="utf-8"))
    users = json.load(open(users_path, encoding="utf-8"))
    today = dt.date.fromisoformat(spec["today"])
    config.set_trytond(database, config_file=config_file)

    # the configuration wizard would open at first login otherwise
    Item = Model.get("ir.module.config_wizard.item")
    for item in Item.find([("state", "!=", "done")]):
        item.state = "done"
        item.save()

    currency = get_currency(spec["currency"])
    Party = Model.get("party.party")
    create_company(Party(name="Quotebot Demo Company"), currency)
    company = get_company()
    create_chart(company)
    accounts = get_accounts(company)
    for year_day in (today, today.replace(year=today.year + 1)):
        fiscalyear = set_fiscalyear_invoice_sequences(create_fiscalyear(company, year_day))
        fiscalyear.click("create_period")
    term = create_payment_term()
    term.save()

    SaleConfig = Model.get("sale.configuration")
    sale_config = SaleConfig(1)
    sale_config.sale_quotation_validity = dt.timedelta(days=spec["validity_days"])
    sale_config.save()
    sequence = sale_config.sale_opportunity_sequence
    sequence.prefix, sequence.padding = "OPP-", 4
    sequence.save()

    Category = Model.get("product.category")
    category = Category(name="Renewals", accounting=True)
    category.account_revenue = accounts["revenue"]
    category.account_expense = accounts["expense"]
    category.save()
    Uom = Model.get("product.uom")
    (unit,) = Uom.find([("name", "=", "Unit")])
    Template = Model.get("product.template")
    products = {}
    for p in spec["products"]:
        template = Template(
            name=p["name"],
            code=p["sku"],
            type="service",
            salable=True,
            default_uom=unit,
            sale_uom=unit,
            account_category=category,
            list_price=Decimal(p["list_price"]),
        )
        template.save()
        products[p["sku"]] = template.products[0]

    parties = {}
    for c in spec["customers"]:
        party = Party(name=c["name"])
        address = party.addresses[0] if party.addresses else party.addresses.new()
        address.street = c["street"]
        address.city = c["city"]
        address.postal_code = c["postal_code"]
        party.customer_payment_term = term
        party.save()
        parties[c["name"]] = party

    Employee = Model.get("company.employee")
    desk_party = Party(name="Renewals Desk")
    desk_party.save()
    desk = Employee(party=desk_party, company=company)
    desk.save()
    Opportunity = Model.get("sale.opportunity")
    for o in spec["opportunities"]:
        opp = Opportunity(party=parties[o["party"]], description=o["description"], employee=desk)
        opp.start_date = dt.date.fromisoformat(o["start_date"])
        opp.end_date = dt.date.fromisoformat(o["end_date"])
        for line in o["lines"]:
            opp.lines.new(product=products[line["sku"]], quantity=line["quantity"])
        opp.save()
        opp.click("opportunity")
        assert opp.number == o["number"], (opp.number, o["number"])

    User = Model.get("res.user")
    Group = Model.get("res.group")
    Lang = Model.get("ir.lang")
    (english,) = Lang.find([("code", "=", "en")])
    sales = Group.find(
        [
            (
                "name",
                "in",
                [
                    "Sales",
                    "Sales Administrator",
                    "Sales Opportunity",
                    "Sales Opportunity Administrator",
                ],
            )
        ]
    )
    (admin,) = User.find([("login", "=", "admin")])
    admin.language = english
    admin.save()
    for login, password in users.items():
        user = User(name=login, login=login, password=password, language=english)
        user.groups.extend(sales)
        user.companies.append(company)
        user.company = company
        user.employees.append(Employee(desk.id))
        user.employee = Employee(desk.id)
        user.save()


if __name__ == "__main__":
    main(*sys.argv[1:5])
