import { describe, expect, it } from "vitest";
import en from "../src/i18n/en.json";
import zhCN from "../src/i18n/zh_CN.json";
import { pickLocale, translator } from "../src/i18n";

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("message files", () => {
  it("have the same keys in every locale", () => {
    const missingInChinese = Object.keys(en).filter((key) => !(key in zhCN));
    const missingInEnglish = Object.keys(zhCN).filter((key) => !(key in en));
    expect(missingInChinese).toEqual([]);
    expect(missingInEnglish).toEqual([]);
  });

  it("use the same placeholders in every locale", () => {
    for (const [key, text] of Object.entries(en)) {
      expect(placeholders(zhCN[key as keyof typeof zhCN]), key).toEqual(placeholders(text));
    }
  });

  it("translate every message to Chinese (no English left)", () => {
    const same = Object.entries(en).filter(
      ([key, text]) => zhCN[key as keyof typeof zhCN] === text && /[a-z]{3,}/i.test(text.replace(/\{\w+\}/g, "")),
    );
    expect(same.map(([key]) => key)).toEqual(["app.name"]);
  });

  it("fill in placeholders and pick the profile's language", () => {
    expect(translator("en")("status.unsent", { n: 3 })).toBe("3 unsent");
    expect(translator("zh_CN")("status.unsent", { n: 3 })).toBe("3 项未发送");
    expect(pickLocale("zh_CN")).toBe("zh_CN");
    expect(pickLocale("zh-Hans-CN")).toBe("zh_CN");
    expect(pickLocale("en")).toBe("en");
    expect(pickLocale(undefined)).toBe("en");
  });
});
