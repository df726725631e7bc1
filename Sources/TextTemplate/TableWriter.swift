/// Aligns tab-separated text into columns with the semantics of Go's `text/tabwriter` (flags 0),
/// which Docker uses as `tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`:
///
/// - A cell is text terminated by a tab (or vertical tab); the text after a line's last tab is not a
///   cell of any column and is never padded, so lines get no trailing spaces from it.
/// - A column block is a run of consecutive lines that all have a cell in that column; the column's
///   width within the block is the widest cell plus `padding`, at least `minWidth`.
/// - Widths count Unicode scalars (Go counts runes).
/// - With `padChar` a tab, cells are padded with tabs to multiples of `tabWidth`.
public struct TableWriter: Sendable {
    public var minWidth: Int
    public var tabWidth: Int
    public var padding: Int
    public var padChar: Character

    public init(minWidth: Int = 10, tabWidth: Int = 1, padding: Int = 3, padChar: Character = " ") {
        self.minWidth = minWidth
        self.tabWidth = tabWidth
        self.padding = padding
        self.padChar = padChar
    }

    private struct Cell {
        var text: String
        var width: Int
    }

    /// The aligned text. Every `\n` in `text` ends a line; text after the last newline is formatted as a
    /// final line without a newline, as `Flush` does.
    public func format(_ text: String) -> String {
        var lines: [[Cell]] = [[]]
        var current = ""
        var width = 0
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\t", "\u{0B}":
                lines[lines.count - 1].append(Cell(text: current, width: width))
                current = ""
                width = 0
            case "\n":
                lines[lines.count - 1].append(Cell(text: current, width: width))
                current = ""
                width = 0
                lines.append([])
            default:
                current.unicodeScalars.append(scalar)
                width += 1
            }
        }
        if !current.isEmpty { lines[lines.count - 1].append(Cell(text: current, width: width)) }
        var out = ""
        var widths: [Int] = []
        formatBlock(lines, 0, lines.count, &widths, &out)
        return out
    }

    /// Go's recursive column formatting: finds each block of lines having a cell in the next column,
    /// sizes that column for the block, and recurses for the columns to its right.
    private func formatBlock(_ lines: [[Cell]], _ start: Int, _ end: Int, _ widths: inout [Int], _ out: inout String) {
        let column = widths.count
        var line0 = start
        var this = start
        while this < end {
            if column >= lines[this].count - 1 {
                this += 1
                continue
            }
            writeLines(lines, line0, this, widths, &out)
            line0 = this
            var width = minWidth
            while this < end, column < lines[this].count - 1 {
                width = max(width, lines[this][column].width + padding)
                this += 1
            }
            widths.append(width)
            formatBlock(lines, line0, this, &widths, &out)
            widths.removeLast()
            line0 = this
            this += 1  // the line that ended the block has no cell in this column
        }
        writeLines(lines, line0, end, widths, &out)
    }

    private func writeLines(_ lines: [[Cell]], _ start: Int, _ end: Int, _ widths: [Int], _ out: inout String) {
        guard start < end else { return }
        for i in start..<end {
            for (j, cell) in lines[i].enumerated() {
                out += cell.text
                if j < widths.count { writePadding(cell.width, widths[j], &out) }
            }
            if i + 1 < lines.count { out += "\n" }
        }
    }

    private func writePadding(_ textWidth: Int, _ cellWidth: Int, _ out: inout String) {
        if padChar == "\t" {
            guard tabWidth > 0 else { return }
            let rounded = (cellWidth + tabWidth - 1) / tabWidth * tabWidth
            let n = rounded - textWidth
            out += String(repeating: "\t", count: max((n + tabWidth - 1) / tabWidth, 0))
        } else {
            out += String(repeating: padChar, count: max(cellWidth - textWidth, 0))
        }
    }
}
