import { describe, expect, it } from 'vitest';
import { csvField, csvLine } from './usageCsv';

describe('CSV fields', () => {
  it('quote commas, quotes and line breaks, and end each line with CRLF', () => {
    const cells = ['plain', 'a,b', 'say "hi"', 'two\nlines', 'cr\rhere', '', 'ünïcode'];
    expect(csvLine(cells)).toBe('plain,"a,b","say ""hi""","two\nlines","cr\rhere",,ünïcode\r\n');
  });

  it('defuse text a spreadsheet would run as a formula', () => {
    expect(csvField('=HYPERLINK("http://evil","x")')).toBe(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('-2+3')).toBe("'-2+3");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('\t=1')).toBe("'\t=1");
    expect(csvField('a=b')).toBe('a=b');
  });

  it('write numbers, booleans and missing values as they are', () => {
    expect(csvLine([-5, 0.25, true, null])).toBe('-5,0.25,true,\r\n');
  });
});
